/**
 * Submitting a part of a wave as one provider batch, never twice:
 *
 * 1. a conditional claim (PLANNED → SUBMITTING, with a token and a lease longer than the function
 *    can run) before the create call, so no two runs submit the same part;
 * 2. the request lines are produced from the table as the upload streams (comparisons in index
 *    order, essays read a page at a time) and the part is cut before the first line that would
 *    pass the provider's request or byte limit; the next part starts there;
 * 3. a conditional record (SUBMITTING(token) → SUBMITTED) of the provider batch id, together with a
 *    claim item per provider batch id and the next part, in one transaction.
 *
 * A crash between 2 and 3 leaves the claim to lapse. The next run looks up what the lost create
 * made (`recoverSubmission`): OpenAI finds it exactly by the submission key in its metadata;
 * Anthropic lists the batches created in the claim's window and adopts the one unclaimed batch with
 * the part's request count. Nothing found → submitting again cannot make a second batch (the lease
 * outlived every call of the crashed run); several indistinguishable candidates → the part fails
 * (`provider_batch_submission_ambiguous`) rather than guess, and the engine retries its pairs.
 */

import { comparisonId } from '#messages/common.ts';
import type { Callback } from '#messages/queue.ts';
import { ProviderBatchCallError } from '#shared/judges/batch/http.ts';
import { lineBytes } from '#shared/judges/batch/jsonl.ts';
import { PartBudget, recoveryDecision } from '#shared/judges/batch/parts.ts';
import type { ProviderBatchApi, ProviderBatchLimits } from '#shared/judges/batch/port.ts';
import { buildPrompt } from '#shared/judges/prompt.ts';
import { type JudgedBatch, logFields, type ProviderBatchDeps } from './provider-batch-deps.ts';
import { type PartKey, type ProviderBatchPart, partKeyOf, submissionKey } from './store-records.ts';
import { MetricName } from './telemetry.ts';

/** Comparisons read per page while producing request lines (each page: one Query, one BatchGet). */
const COMPARISON_PAGE = 100;
/** Clock skew allowed between the function and the provider when looking up a lost create. */
const LOOKUP_SKEW_MS = 60 * 1000;

/** Where a cut ended: the last index taken, how many, and whether the wave ran out first. */
export interface Cut {
  toIndex: number;
  requests: number;
  bytes: number;
  exhausted: boolean;
}

class EssayMissingError extends Error {
  constructor() {
    super('an essay of the wave is missing from the table');
    this.name = 'EssayMissingError';
  }
}

/**
 * The request lines of a part from `from_index`, within `limits`. `cut` is updated as lines are
 * produced, so after the lines were consumed it says where the part ends.
 */
export async function* partLines(
  deps: Pick<ProviderBatchDeps, 'store' | 'config'>,
  part: ProviderBatchPart,
  batch: JudgedBatch,
  api: ProviderBatchApi,
  limits: ProviderBatchLimits,
  cut: Cut,
): AsyncGenerator<string> {
  const budget = new PartBudget(limits);
  const judge = batch.judge as { assignment?: string; rubric?: string };
  let next = part.from_index;
  cut.toIndex = next;
  cut.exhausted = false;
  for (;;) {
    const page = await deps.store.listWaveComparisons(
      part.batch_id,
      part.iteration,
      next,
      COMPARISON_PAGE,
    );
    if (page.length === 0) {
      cut.exhausted = true;
      return;
    }
    const indices = [...new Set(page.flatMap((comparison) => [comparison.a, comparison.b]))];
    const essays = await deps.store.getEssays(part.batch_id, indices);
    for (const comparison of page) {
      const essayA = essays.get(comparison.a);
      const essayB = essays.get(comparison.b);
      if (!essayA || !essayB) throw new EssayMissingError();
      const prompt = buildPrompt({
        essayA: essayA.text,
        essayB: essayB.text,
        ...(judge.assignment ? { assignment: judge.assignment } : {}),
        ...(judge.rubric ? { rubric: judge.rubric } : {}),
        justificationMaxWords: deps.config.JUDGE_JUSTIFICATION_MAX_WORDS,
      });
      const line = api.requestLine(comparisonId(part.iteration, comparison.index), prompt);
      const bytes = lineBytes(line);
      if (!budget.tryAdd(bytes)) return;
      cut.toIndex = comparison.index + 1;
      cut.requests = budget.count;
      cut.bytes = budget.bytes;
      yield line;
    }
    next = (page.at(-1)?.index ?? next) + 1;
  }
}

function limitsOf(part: ProviderBatchPart, api: ProviderBatchApi): ProviderBatchLimits {
  return {
    maxRequests: part.max_requests ?? api.limits.maxRequests,
    maxBytes: part.max_bytes ?? api.limits.maxBytes,
  };
}

/** The same cut again without sending anything (recovery and failure paths). */
export async function dryCut(
  deps: Pick<ProviderBatchDeps, 'store' | 'config'>,
  part: ProviderBatchPart,
  batch: JudgedBatch,
  api: ProviderBatchApi,
): Promise<Cut> {
  const cut: Cut = { toIndex: part.from_index, requests: 0, bytes: 0, exhausted: false };
  for await (const _line of partLines(deps, part, batch, api, limitsOf(part, api), cut)) {
    // only the cut matters
  }
  return cut;
}

/** The range from the part's start to the end of its wave (no essays read). */
async function waveRest(
  deps: Pick<ProviderBatchDeps, 'store'>,
  part: ProviderBatchPart,
): Promise<Cut> {
  let toIndex = part.from_index;
  for (;;) {
    const page = await deps.store.listWaveComparisons(
      part.batch_id,
      part.iteration,
      toIndex,
      COMPARISON_PAGE * 10,
    );
    if (page.length === 0) break;
    toIndex = (page.at(-1)?.index ?? toIndex) + 1;
  }
  return { toIndex, requests: toIndex - part.from_index, bytes: 0, exhausted: true };
}

/** Fails every comparison of [from, to) with one reason, through the callback queue. */
export async function failRange(
  deps: Pick<ProviderBatchDeps, 'messaging'>,
  part: ProviderBatchPart,
  toIndex: number,
  failure: Pick<Extract<Callback, { outcome: 'failure' }>, 'failure_kind' | 'reason'>,
): Promise<number> {
  const callbacks: Callback[] = [];
  for (let index = part.from_index; index < toIndex; index += 1) {
    callbacks.push({
      v: 1,
      batch_id: part.batch_id,
      comparison_id: comparisonId(part.iteration, index),
      outcome: 'failure',
      ...failure,
    });
  }
  await deps.messaging.sendCallbacks(callbacks);
  return callbacks.length;
}

/** Ends a part that will never be (or was never) collected: its comparisons fail, the wave goes on. */
async function failPart(
  deps: ProviderBatchDeps,
  part: ProviderBatchPart,
  batch: JudgedBatch,
  api: ProviderBatchApi,
  reason: string,
  kind: 'invalid_request' | 'provider_error',
): Promise<void> {
  // The part's range is the cut it would have had; without its essays, the rest of the wave.
  const cut =
    reason === 'essay_missing' ? await waveRest(deps, part) : await dryCut(deps, part, batch, api);
  const failed = await failRange(deps, part, cut.toIndex, { failure_kind: kind, reason });
  await deps.store.finishProviderBatchPart(partKeyOf(part), {
    state: 'FAILED',
    ...(part.claim_token ? { token: part.claim_token } : {}),
    reason,
    outcomeCounts: { failures: failed },
    ...(cut.exhausted ? {} : { planNextFrom: cut.toIndex }),
    now: deps.now(),
  });
  deps.telemetry.error('provider_batch_part_failed', {
    ...logFields(part),
    reason,
    failed_comparisons: failed,
  });
}

async function record(
  deps: ProviderBatchDeps,
  part: ProviderBatchPart,
  api: ProviderBatchApi,
  created: { id: string; providerStatus: string },
  cut: Cut,
  how: 'submitted' | 'adopted',
): Promise<void> {
  const key: PartKey = partKeyOf(part);
  const outcome = await deps.store.recordSubmission(key, {
    token: part.claim_token ?? '',
    providerBatchId: created.id,
    providerStatus: created.providerStatus,
    toIndex: cut.toIndex,
    requests: cut.requests,
    planNext: !cut.exhausted,
    now: deps.now(),
  });
  const fields = {
    ...logFields(part),
    provider_batch_id: created.id,
    requests: cut.requests,
    bytes: cut.bytes,
    to_index: cut.toIndex,
    record_outcome: outcome,
  };
  if (outcome === 'recorded') {
    deps.telemetry.info(`provider_batch_${how}`, fields);
    if (how === 'submitted') deps.telemetry.count(MetricName.ProviderBatchesSubmitted);
    return;
  }
  // Our claim lapsed (a run outlived its lease) or the id is another part's: the part's record
  // names the batch to keep; if it is not this one, this one is a duplicate and is cancelled.
  const current = await deps.store.getProviderBatchPart(key);
  if (current?.provider_batch_id !== created.id) {
    deps.telemetry.error('provider_batch_duplicate_cancelled', fields);
    await api.cancel(created.id).catch(() => undefined);
  }
}

async function* prepend(first: string, rest: AsyncIterable<string>): AsyncGenerator<string> {
  yield first;
  yield* rest;
}

/** PLANNED (or a lapsed claim after a recovery said so): claim, stream, create, record. */
export async function submitPart(
  deps: ProviderBatchDeps,
  planned: ProviderBatchPart,
  batch: JudgedBatch,
  api: ProviderBatchApi,
): Promise<void> {
  const now = deps.now();
  const part = await deps.store.claimSubmission(partKeyOf(planned), {
    token: deps.newToken(),
    now,
    leaseUntil: new Date(now.getTime() + deps.config.PROVIDER_BATCH_LEASE_SECONDS * 1000),
    limits: api.limits,
  });
  if (!part) return;
  const cut: Cut = { toIndex: part.from_index, requests: 0, bytes: 0, exhausted: false };
  let created: Awaited<ReturnType<ProviderBatchApi['create']>>;
  try {
    const lines = partLines(deps, part, batch, api, limitsOf(part, api), cut);
    const first = await lines.next();
    if (first.done) {
      // No comparison from here on (the wave ended exactly at the previous cut): nothing to send.
      await deps.store.finishProviderBatchPart(partKeyOf(part), {
        state: 'ABANDONED',
        token: part.claim_token ?? '',
        reason: 'empty_part',
        now: deps.now(),
      });
      return;
    }
    created = await api.create({
      submissionKey: submissionKey(partKeyOf(part)),
      lines: prepend(first.value, lines),
    });
  } catch (error) {
    if (error instanceof EssayMissingError) {
      return failPart(deps, part, batch, api, 'essay_missing', 'invalid_request');
    }
    if (error instanceof ProviderBatchCallError && !error.retryable) {
      // Refused outright (bad key, bad request): nothing was created; the engine may retry pairs.
      return failPart(
        deps,
        part,
        batch,
        api,
        `provider_batch_create_${error.reason}`,
        'invalid_request',
      );
    }
    // A timeout or a 5xx may or may not have created it: the claim lapses and a lookup decides.
    deps.telemetry.warn('provider_batch_create_uncertain', {
      ...logFields(part),
      error: error instanceof ProviderBatchCallError ? error.reason : (error as Error).name,
    });
    throw error;
  }
  await record(deps, part, api, created, cut, 'submitted');
}

/** A SUBMITTING part whose claim lapsed: find what its create made, then adopt, resubmit or fail. */
export async function recoverSubmission(
  deps: ProviderBatchDeps,
  part: ProviderBatchPart,
  batch: JudgedBatch,
  api: ProviderBatchApi,
): Promise<void> {
  const claimedAt = Date.parse(part.claimed_at ?? part.planned_at);
  const leaseUntil = Date.parse(part.lease_until ?? part.planned_at);
  const candidates = await api.find({
    submissionKey: part.submission_key,
    createdFromMs: claimedAt - LOOKUP_SKEW_MS,
    createdToMs: leaseUntil + LOOKUP_SKEW_MS,
  });
  const claimed = await deps.store.recordedProviderBatchIds(
    part.provider,
    candidates.map((candidate) => candidate.id),
  );
  const cut = await dryCut(deps, part, batch, api);
  const decision = recoveryDecision({
    exact: api.findsBySubmissionKey,
    candidates,
    claimed,
    expectedRequests: cut.requests,
  });
  deps.telemetry.warn('provider_batch_recovery', {
    ...logFields(part),
    candidates: candidates.length,
    decision: decision.action,
  });
  if (decision.action === 'adopt') {
    await record(deps, part, api, decision.batch, cut, 'adopted');
    for (const duplicate of decision.duplicates) {
      deps.telemetry.error('provider_batch_duplicate_cancelled', {
        ...logFields(part),
        provider_batch_id: duplicate,
      });
      await api.cancel(duplicate).catch(() => undefined);
    }
    return;
  }
  if (decision.action === 'resubmit') {
    const wanted = batch.status === 'RUNNING' && deps.now().getTime() <= Date.parse(part.deadline);
    if (wanted) {
      await submitPart(deps, part, batch, api);
      return;
    }
    // Nothing was created and nothing is wanted any more: the part ends here.
    await deps.store.finishProviderBatchPart(partKeyOf(part), {
      state: 'ABANDONED',
      token: part.claim_token ?? '',
      reason: batch.status === 'RUNNING' ? 'deadline_passed' : 'batch_not_running',
      now: deps.now(),
    });
    return;
  }
  deps.telemetry.error('provider_batch_submission_ambiguous', {
    ...logFields(part),
    candidates: decision.candidates,
  });
  await failPart(deps, part, batch, api, 'provider_batch_submission_ambiguous', 'provider_error');
}
