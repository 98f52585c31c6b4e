/**
 * The HTTP API's operations (create, add essays, start, get, results, cancel, mock mode). Each
 * returns `{ status, body }` or throws an `HttpError` (400 naming the field, 404 unknown batch,
 * 409 illegal state change, 429 an in-flight cap full); the handlers only parse the event and map
 * the result.
 */
import { defaultBudget, resolveConfig } from '#domain/config.ts';
import type { InFlightCaps } from '#domain/in-flight.ts';
import { listMockProfiles } from '#domain/mock-judge.ts';
import { isTerminal } from '#domain/types.ts';
import {
  checkAnchorGrades,
  createBatchRequestSchema,
  decodeResultsCursor,
  emptyRequestSchema,
  essayPageRequestSchema,
  type JudgeChoice,
  resultsPageQuerySchema,
} from '#messages/api.ts';
import { formatPath } from '#messages/validation.ts';
import type { EndpointPolicy } from '#shared/judges/endpoints.ts';
import { type Caller, idempotencyScope, visibleBatch } from './access.ts';
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
import { batchResults, batchState } from './views.ts';

/** What starting the continuation of a batch needs. */
interface TriggerDeps {
  messaging: Pick<Queues, 'sendContinuationTrigger'>;
}

export type { Caller } from './access.ts';

export interface CreateBatchDeps extends TriggerDeps {
  store: Pick<BatchStore, 'createBatch' | 'getBatch' | 'getInFlight' | 'findIdempotentBatch'>;
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
  store: Pick<BatchStore, 'putEssayPage' | 'getSettings' | 'getBatch'>;
  now: () => Date;
  /** The deployment's maxima (a page's essay texts: MAX_ESSAY_CHARS); defaults unless set. */
  limits?: DeploymentLimits;
}

export interface StartBatchDeps extends TriggerDeps {
  store: Pick<BatchStore, 'startBatch' | 'getSettings' | 'getEssayDirectory' | 'getBatch'>;
  now: () => Date;
  /** The in-flight caps a starting batch is counted against; defaults unless set. */
  inFlightCaps?: InFlightCaps;
}

export interface ReadDeps {
  store: Pick<BatchStore, 'getBatchView'>;
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

/** The Idempotency-Key header, checked: 1 to MAX_IDEMPOTENCY_KEY_CHARS characters. */
function checkedIdempotencyKey(idempotencyKey: string | undefined): string | undefined {
  if (idempotencyKey === undefined) return undefined;
  if (idempotencyKey.length === 0 || idempotencyKey.length > MAX_IDEMPOTENCY_KEY_CHARS) {
    throw badRequest(
      'idempotency-key',
      `Idempotency-Key must have 1 to ${MAX_IDEMPOTENCY_KEY_CHARS} characters`,
    );
  }
  return idempotencyKey;
}

/** The batch an earlier create with this caller's key made (the key's item names it). */
async function earlierBatch(
  deps: CreateBatchDeps,
  scope: string | undefined,
): Promise<BatchMeta | null> {
  if (scope === undefined) return null;
  const batchId = await deps.store.findIdempotentBatch(scope);
  return batchId === null ? null : deps.store.getBatch(batchId);
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
  const key = checkedIdempotencyKey(idempotencyKey);
  const scope = key === undefined ? undefined : idempotencyScope(caller, key);
  // A retried create must not rewrite the essays of the batch its first attempt made.
  const earlier = await earlierBatch(deps, scope);
  if (earlier) return retriedCreate(deps, earlier, request.grade_scale ?? null);
  const inFlight = await reservationFor(deps, caller.id, essayCount, !request.essays);
  // Ids are random whatever the key: the key's item maps it to the id (docs/security.md).
  const batchId = deps.newBatchId();
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
    ...(scope === undefined ? {} : { idempotencyScope: scope }),
  });
  if (created.outcome === 'over_cap') throw tooManyInFlight(created.refusal);
  if (created.outcome === 'key_taken') {
    // A concurrent create with the same key won: answer with its batch.
    const winner = await earlierBatch(deps, scope);
    if (!winner) throw new HttpError(500, { error: 'internal_error', message: 'retry the create' });
    return retriedCreate(deps, winner, request.grade_scale ?? null);
  }
  if (created.outcome === 'exists') {
    throw new HttpError(500, { error: 'internal_error', message: 'batch id collision, retry' });
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
  caller: Caller,
  body: unknown,
): Promise<ApiResult> {
  const page = essayPageRequestSchema.parse(body);
  visibleBatch(caller, batchId, await deps.store.getBatch(batchId, false));
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
  caller: Caller,
  body: unknown,
): Promise<ApiResult> {
  emptyRequestSchema.parse(body);
  visibleBatch(caller, batchId, await deps.store.getBatch(batchId, false));
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

export async function getBatch(
  deps: ReadDeps,
  batchId: string,
  caller: Caller,
): Promise<ApiResult> {
  const view = await deps.store.getBatchView(batchId);
  if (!view) throw notFound(batchId);
  visibleBatch(caller, batchId, view.batch);
  return {
    status: 200,
    body: batchState(view.batch, view.processingMetadata, view.gradeScale),
  };
}

/** One page of a finalized batch's results (`query`: `limit`, `cursor`; docs/api.md). */
export async function getResults(
  deps: ResultsDeps,
  batchId: string,
  caller: Caller,
  query: Record<string, string | undefined> = {},
): Promise<ApiResult> {
  const unknown = Object.keys(query).find((name) => !(name in resultsPageQuerySchema.shape));
  if (unknown) throw badRequest(unknown, `unknown query parameter ${unknown} (limit, cursor)`);
  const { limit, cursor } = resultsPageQuerySchema.parse(query);
  const offset = cursor === undefined ? 0 : decodeResultsCursor(cursor);
  if (offset === undefined) throw badRequest('cursor', 'cursor is not one this API gave');
  const batch = visibleBatch(caller, batchId, await deps.store.getBatch(batchId, false));
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
  caller: Caller,
  body: unknown,
): Promise<ApiResult> {
  emptyRequestSchema.parse(body);
  visibleBatch(caller, batchId, await deps.store.getBatch(batchId));
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
