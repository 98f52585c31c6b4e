/**
 * The HTTP API's operations (create, add essays, start, get, results, cancel, mock mode). Each
 * returns `{ status, body }` or throws an `HttpError` (400 naming the field, 404 unknown batch,
 * 409 illegal state change, 429 an in-flight cap full); the handlers only parse the event and map
 * the result.
 */
import { createHash } from 'node:crypto';
import { defaultBudget, resolveConfig } from '#domain/config.ts';
import type { InFlightCaps } from '#domain/in-flight.ts';
import { listMockProfiles } from '#domain/mock-judge.ts';
import { isTerminal } from '#domain/types.ts';
import {
  batchListQuerySchema,
  checkAnchorGrades,
  createBatchRequestSchema,
  decodeListCursor,
  decodeResultsCursor,
  emptyRequestSchema,
  encodeListCursor,
  essayPageRequestSchema,
  type JudgeChoice,
  resultsPageQuerySchema,
} from '#messages/api.ts';
import { formatPath } from '#messages/validation.ts';
import type { EndpointPolicy } from '#shared/judges/endpoints.ts';
import type { PublishDeps } from './continuation.ts';
import { publishIfUnpublished } from './continuation.ts';
import { badRequest, conflict, HttpError, notFound, tooManyInFlight } from './http-errors.ts';
import { validateJudge } from './judge-choice.ts';
import {
  capsOf,
  checkCreateLimits,
  checkEssayTexts,
  DEFAULT_LIMITS,
  type DeploymentLimits,
  reservationFor,
} from './limits.ts';
import type { BatchStore, FinalizationStore, Queues } from './ports.ts';
import type { BatchMeta } from './store-records.ts';
import type { Telemetry } from './telemetry.ts';
import { batchResults, batchState, batchSummary } from './views.ts';

/**
 * Who calls (docs/security.md): the IAM principal of the request (`callerPrincipal` in
 * shared/runtime), which owns the batches it creates.
 */
export interface Caller {
  id: string;
}

/** What starting the continuation of a batch needs. */
interface TriggerDeps {
  messaging: Pick<Queues, 'sendContinuationTrigger'>;
}

export interface CreateBatchDeps extends TriggerDeps {
  store: Pick<BatchStore, 'createBatch' | 'getBatch' | 'getInFlight'>;
  telemetry: Telemetry;
  now: () => Date;
  /** Judge providers this deployment accepts (ALLOWED_PROVIDERS). */
  allowedProviders: readonly string[];
  /** Named OpenAI-compatible endpoints, loopback base URLs (local cloud); none and no if absent. */
  endpointPolicy?: EndpointPolicy;
  newBatchId: () => string;
  /** The deployment's maxima (MAX_ESSAYS_PER_BATCH, MAX_ESSAY_CHARS, MAX_BUDGET_PER_BATCH); defaults unless set. */
  limits?: DeploymentLimits;
  /** The in-flight caps (MAX_BATCHES_IN_FLIGHT_PER_PRINCIPAL, MAX_ESSAYS_IN_FLIGHT); defaults unless set. */
  inFlightCaps?: InFlightCaps;
}

export interface AddEssaysDeps {
  store: Pick<BatchStore, 'putEssayPage' | 'getSettings'>;
  now: () => Date;
  /** The deployment's maxima (a page's essay texts: MAX_ESSAY_CHARS); defaults unless set. */
  limits?: DeploymentLimits;
}

export interface StartBatchDeps extends TriggerDeps {
  store: Pick<BatchStore, 'startBatch' | 'getSettings' | 'getEssayDirectory'>;
  now: () => Date;
  /** The in-flight caps a starting batch is counted against; defaults unless set. */
  inFlightCaps?: InFlightCaps;
}

export interface ReadDeps {
  store: Pick<BatchStore, 'getBatchView'>;
}

export interface ListDeps {
  store: Pick<BatchStore, 'listBatches'>;
}

export interface ResultsDeps {
  store: Pick<BatchStore, 'getBatch'> & Pick<FinalizationStore, 'getResults'>;
}

export interface CancelDeps extends PublishDeps {
  store: Pick<BatchStore, 'cancelBatch' | 'getBatch' | 'getSettings'> & PublishDeps['store'];
}

export interface ApiResult {
  status: number;
  body: unknown;
}

const DEFAULT_JUDGE: JudgeChoice = { provider: 'mock', profile: 'default' };

async function startContinuation(deps: TriggerDeps, batch: BatchMeta): Promise<void> {
  await deps.messaging.sendContinuationTrigger({
    v: 1,
    batch_id: batch.batch_id,
    iteration: batch.current_iteration,
    cause: 'batch_started',
  });
}

/** Runs a check that reports issues like a zod refinement and throws the first as a 400. */
function throwFirstIssue(
  check: (ctx: { addIssue: (issue: { path: PropertyKey[]; message: string }) => void }) => void,
): void {
  const issues: { path: PropertyKey[]; message: string }[] = [];
  check({ addIssue: (issue) => issues.push(issue) });
  const [first] = issues;
  if (first) throw badRequest(formatPath(first.path), first.message);
}

/** Longest `Idempotency-Key` header accepted. */
const MAX_IDEMPOTENCY_KEY_CHARS = 128;

/**
 * The batch id for a create request: derived from the client's idempotency key when it sends one
 * (a retried create then finds its batch instead of starting a second one), else random.
 */
function batchIdFor(deps: CreateBatchDeps, idempotencyKey: string | undefined): string {
  if (idempotencyKey === undefined) return deps.newBatchId();
  if (idempotencyKey.length === 0 || idempotencyKey.length > MAX_IDEMPOTENCY_KEY_CHARS) {
    throw badRequest(
      'idempotency-key',
      `Idempotency-Key must have 1 to ${MAX_IDEMPOTENCY_KEY_CHARS} characters`,
    );
  }
  return `k-${createHash('sha256').update(idempotencyKey).digest('hex').slice(0, 40)}`;
}

/** A create retried with the same idempotency key: its start trigger may have been lost. */
async function retriedCreate(
  deps: TriggerDeps,
  batch: BatchMeta,
  gradeScale: readonly string[] | null,
): Promise<ApiResult> {
  if (batch.status === 'RUNNING' && batch.submitted_comparisons === 0) {
    await startContinuation(deps, batch);
  }
  return { status: 200, body: batchState(batch, {}, gradeScale) };
}

/** `POST /batches`; counted in flight against `caller` (docs/deploy.md, limits.ts). */
export async function createBatch(
  deps: CreateBatchDeps,
  body: unknown,
  caller: Caller,
  idempotencyKey?: string,
): Promise<ApiResult> {
  const request = createBatchRequestSchema.parse(body);
  const limits = deps.limits ?? DEFAULT_LIMITS;
  checkCreateLimits(request, limits);
  const judge = validateJudge(request.judge ?? DEFAULT_JUDGE, deps);
  const overrides = request.config ?? {};
  const essayCount = request.essays?.length ?? request.essay_count ?? 0;
  const totalBudget =
    request.budget ?? defaultBudget(essayCount, resolveConfig(overrides), limits.maxBudgetPerBatch);
  const batchId = batchIdFor(deps, idempotencyKey);
  // A retried create must not rewrite the essays of the batch its first attempt made.
  const earlier = idempotencyKey === undefined ? null : await deps.store.getBatch(batchId);
  if (earlier) return retriedCreate(deps, earlier, request.grade_scale ?? null);
  const inFlight = await reservationFor(deps, caller.id, essayCount, !request.essays);
  const created = await deps.store.createBatch({
    batchId,
    ...(request.essays ? { essays: request.essays } : {}),
    ...(request.grade_scale ? { gradeScale: request.grade_scale } : {}),
    essayCount,
    totalBudget,
    config: overrides,
    judge,
    now: deps.now(),
    owner: caller.id,
    inFlight,
    sharedId: idempotencyKey !== undefined,
  });
  if (created.outcome === 'over_cap') throw tooManyInFlight(created.refusal);
  if (created.outcome === 'exists') {
    const existing = idempotencyKey === undefined ? null : await deps.store.getBatch(batchId);
    if (!existing) {
      throw new HttpError(500, { error: 'internal_error', message: 'batch id collision, retry' });
    }
    return retriedCreate(deps, existing, request.grade_scale ?? null);
  }
  deps.telemetry.info('batch_created', {
    batch_id: created.batch.batch_id,
    essay_count: essayCount,
    total_budget: totalBudget,
    status: created.batch.status,
    provider: judge.provider,
  });
  if (created.batch.status === 'RUNNING') await startContinuation(deps, created.batch);
  return { status: 201, body: batchState(created.batch, {}, request.grade_scale ?? null) };
}

export async function addEssays(
  deps: AddEssaysDeps,
  batchId: string,
  body: unknown,
): Promise<ApiResult> {
  const page = essayPageRequestSchema.parse(body);
  checkEssayTexts(page.essays, deps.limits ?? DEFAULT_LIMITS);
  if (page.essays.some((essay) => essay.anchor_grade !== undefined)) {
    const settings = await deps.store.getSettings(batchId);
    if (!settings) throw notFound(batchId);
    throwFirstIssue((ctx) => checkAnchorGrades(page.essays, settings.grade_scale, ctx, false));
  }
  const result = await deps.store.putEssayPage(batchId, page.offset, page.essays, deps.now());
  switch (result.outcome) {
    case 'stored':
    case 'already_stored':
      return {
        status: 200,
        body: { batch_id: batchId, outcome: result.outcome, essays_stored: result.essays_stored },
      };
    case 'out_of_order':
      throw conflict(
        `page offset ${page.offset} does not follow the ${result.essays_stored} essays stored`,
        'offset',
      );
    case 'too_many':
      throw conflict('the page goes past the essay_count given at creation', 'essays');
    case 'duplicate_id':
      throw badRequest(`essays[${result.position}].id`, `duplicate essay id "${result.id}"`);
    case 'not_accepting':
      throw conflict(`batch is ${result.status}: essays can no longer be added`);
    case 'not_found':
      throw notFound(batchId);
  }
}

/** `POST /batches/{id}/start`: counted in flight against the batch's owner (429 when full). */
export async function startBatch(
  deps: StartBatchDeps,
  batchId: string,
  body: unknown,
): Promise<ApiResult> {
  emptyRequestSchema.parse(body);
  // Anchors arrive page by page: the two-grade rule can only be checked once all are stored (a
  // retried start re-checks the same stored anchors, so it passes again).
  const scale = (await deps.store.getSettings(batchId))?.grade_scale;
  if (scale !== undefined) {
    const { anchorGrades } = await deps.store.getEssayDirectory(batchId);
    const anchors = anchorGrades.flatMap((grade) =>
      grade === null ? [] : [{ anchor_grade: grade }],
    );
    throwFirstIssue((ctx) => checkAnchorGrades(anchors, scale, ctx, true));
  }
  const gradeScale = scale ?? null;
  const result = await deps.store.startBatch(batchId, deps.now(), capsOf(deps));
  switch (result.outcome) {
    case 'started':
      await startContinuation(deps, result.batch);
      return { status: 202, body: batchState(result.batch, {}, gradeScale) };
    case 'already_started':
      // A retried start after a lost trigger: the FIFO dedup id makes a repeat harmless.
      if (result.batch.submitted_comparisons === 0) await startContinuation(deps, result.batch);
      return { status: 200, body: batchState(result.batch, {}, gradeScale) };
    case 'essays_missing':
      throw conflict(
        `only ${result.batch.essays_stored} of ${result.batch.essay_count} essays are stored`,
        'essays',
      );
    case 'not_startable':
      throw conflict(`batch is ${result.batch.status} and cannot be started`);
    case 'over_cap':
      throw tooManyInFlight(result.refusal);
    case 'not_found':
      throw notFound(batchId);
  }
}

export async function getBatch(deps: ReadDeps, batchId: string): Promise<ApiResult> {
  const view = await deps.store.getBatchView(batchId);
  if (!view) throw notFound(batchId);
  return {
    status: 200,
    body: batchState(view.batch, view.processingMetadata, view.gradeScale),
  };
}

/**
 * One page of the caller's batches, newest first (`query`: `limit`, `status`, `cursor`;
 * docs/api.md). Unknown parameters, a bad limit or status, and a cursor this API did not give are
 * 400s naming the parameter.
 */
export async function listBatches(
  deps: ListDeps,
  caller: Caller,
  query: Record<string, string | undefined> = {},
): Promise<ApiResult> {
  const unknown = Object.keys(query).find((name) => !(name in batchListQuerySchema.shape));
  if (unknown) {
    throw badRequest(unknown, `unknown query parameter ${unknown} (limit, status, cursor)`);
  }
  const { limit, status, cursor } = batchListQuerySchema.parse(query);
  const after = cursor === undefined ? undefined : decodeListCursor(cursor);
  if (cursor !== undefined && after === undefined) {
    throw badRequest('cursor', 'cursor is not one this API gave');
  }
  const page = await deps.store.listBatches({
    owner: caller.id,
    limit,
    ...(status === undefined ? {} : { status }),
    ...(after === undefined ? {} : { after }),
  });
  return {
    status: 200,
    body: {
      v: 1,
      batches: page.batches.map(batchSummary),
      ...(page.next === undefined ? {} : { next_cursor: encodeListCursor(page.next) }),
    },
  };
}

/** One page of a finalized batch's results (`query`: `limit`, `cursor`; docs/api.md). */
export async function getResults(
  deps: ResultsDeps,
  batchId: string,
  query: Record<string, string | undefined> = {},
): Promise<ApiResult> {
  const unknown = Object.keys(query).find((name) => !(name in resultsPageQuerySchema.shape));
  if (unknown) throw badRequest(unknown, `unknown query parameter ${unknown} (limit, cursor)`);
  const { limit, cursor } = resultsPageQuerySchema.parse(query);
  const offset = cursor === undefined ? 0 : decodeResultsCursor(cursor);
  if (offset === undefined) throw badRequest('cursor', 'cursor is not one this API gave');
  const batch = await deps.store.getBatch(batchId, false);
  if (!batch) throw notFound(batchId);
  if (!isTerminal(batch.status) || batch.status === 'CANCELLED') {
    throw conflict(`batch is ${batch.status}: results exist once it is finalized`);
  }
  const rows = await deps.store.getResults(batchId);
  if (offset > rows.length) throw badRequest('cursor', 'cursor is past the end of the results');
  return { status: 200, body: batchResults(batch, rows, { offset, limit }) };
}

export async function cancelBatch(
  deps: CancelDeps,
  batchId: string,
  body: unknown,
): Promise<ApiResult> {
  emptyRequestSchema.parse(body);
  const result = await deps.store.cancelBatch(batchId, deps.now());
  if (result.outcome === 'not_found') throw notFound(batchId);
  if (result.outcome === 'already_final' && result.batch.status !== 'CANCELLED') {
    throw conflict(`batch is already ${result.batch.status}`);
  }
  // Cancelled (now or by an earlier call): publish the event unless that already happened.
  await publishIfUnpublished(deps, result.batch);
  if (result.outcome === 'cancelled') {
    deps.telemetry.info('batch_cancelled', { batch_id: batchId });
  }
  const [latest, settings] = await Promise.all([
    deps.store.getBatch(batchId),
    deps.store.getSettings(batchId),
  ]);
  return {
    status: 200,
    body: batchState(latest ?? result.batch, {}, settings?.grade_scale ?? null),
  };
}

export function mockMode(deps: { allowedProviders: readonly string[] }): ApiResult {
  const mockAllowed = deps.allowedProviders.includes('mock');
  return {
    status: 200,
    body: {
      allowed_providers: deps.allowedProviders,
      use_mock_llm: mockAllowed,
      default_judge: DEFAULT_JUDGE,
      mock_profiles: mockAllowed ? listMockProfiles() : [],
    },
  };
}
