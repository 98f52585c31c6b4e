/**
 * Every engine default in one place: name, meaning, unit and validation.
 *
 * The names are the public contract: the HTTP API (`config` overrides), the CLI (`--set NAME=VALUE`)
 * and the simulator (`--set`) accept exactly these. Per-batch overrides are validated against the
 * schema here; an unknown name or a bad value is rejected with an error naming the field.
 * A default chosen by measurement says so and cites the command that measured it.
 */
import * as z from 'zod';

/**
 * One documented setting: its schema, default, unit, meaning and who may set it. The engine's
 * entries below and the deployment settings of infra/settings.ts are both declared with it. The
 * default is the schema's input (a deployment setting may arrive as a string and be coerced);
 * engine schemas have no transforms, so their input and output types are the same.
 *
 * `perBatch`: a batch may override it (`config` in `POST /batches`, `cj submit --set`), within the
 * range its schema declares (docs/config.md, "per batch" and "range"); every other setting is the
 * deployment's, and a batch that names one gets a 400 naming `config.NAME`.
 */
export interface ConfigEntry<S extends z.ZodType> {
  readonly schema: S;
  readonly default: z.input<S>;
  readonly unit: string;
  readonly description: string;
  readonly perBatch: boolean;
}

export function configEntry<S extends z.ZodType>(
  schema: S,
  defaultValue: z.input<S>,
  unit: string,
  description: string,
  perBatch = false,
): ConfigEntry<S> {
  return { schema, default: defaultValue, unit, description, perBatch };
}

/** A setting a batch may override, within its schema's range. */
function batch<S extends z.ZodType>(
  schema: S,
  defaultValue: z.input<S>,
  unit: string,
  description: string,
): ConfigEntry<S> {
  return configEntry(schema, defaultValue, unit, description, true);
}

/** A setting of the deployment: a batch may not override it. */
const deployment = configEntry;

const positiveInt = z.number().int().positive();
const nonNegativeInt = z.number().int().nonnegative();
const fraction = z.number().min(0).max(1);
/** The largest MAX_BUDGET_PER_BATCH a deployment may set (comparisons). */
export const BUDGET_MAXIMUM_LIMIT = 1_000_000;
/** A whole number within [min, max]. */
const intRange = (min: number, max: number) => z.number().int().min(min).max(max);
/** A number within [min, max]. */
const numberRange = (min: number, max: number) => z.number().min(min).max(max);

/** Judge providers: a named endpoint may not take one of these names (they share limiter keys). */
const RESERVED_ENDPOINT_NAMES: readonly string[] = [
  'mock',
  'openai',
  'anthropic',
  'openai-compatible',
];

/** The name of a deployment's OpenAI-compatible endpoint (`judge.endpoint`). */
export const endpointNameSchema = z
  .string()
  .regex(
    /^[a-z0-9][a-z0-9_-]{0,63}$/,
    'an endpoint name has 1 to 64 characters [a-z0-9_-], starting with a letter or digit',
  )
  .refine(
    (name) => !RESERVED_ENDPOINT_NAMES.includes(name),
    'an endpoint may not be named after a judge provider',
  );

/**
 * Why a provider base URL is refused, or undefined: it must be an absolute http(s) URL with no
 * user info, query (`?`) or fragment (`#`), so that the endpoint path joined to it stays a path
 * on that host (docs/security.md).
 */
export function baseUrlProblem(raw: string): string | undefined {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return 'must be an absolute http(s) URL';
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return 'must be an http(s) URL';
  if (url.username !== '' || url.password !== '') return 'must not carry user info (user@)';
  if (raw.includes('?')) return 'must not have a query (?)';
  if (raw.includes('#')) return 'must not have a fragment (#)';
  return undefined;
}

/** A provider base URL, up to and including the API version path (e.g. `https://host/v1`). */
export const providerBaseUrlSchema = z
  .string()
  .max(512, 'a base URL has at most 512 characters')
  .superRefine((raw, ctx) => {
    const problem = baseUrlProblem(raw);
    if (problem !== undefined) ctx.addIssue({ code: 'custom', message: `base_url ${problem}` });
  });

export const CONFIG_SPEC = {
  // --- budget -------------------------------------------------------------------------------
  DEFAULT_COMPARISONS_PER_ESSAY: batch(
    z.number().positive().max(200),
    15,
    'comparisons per essay',
    'Budget used when a batch gives none: ceil(K * n / 2) comparisons (each comparison involves two essays), but at least DEFAULT_BUDGET_FLOOR and at most the deployment maximum MAX_BUDGET_PER_BATCH.',
  ),
  DEFAULT_BUDGET_FLOOR: batch(
    intRange(1, 100_000),
    120,
    'comparisons',
    'Smallest default budget, so small nets can reach full coverage plus resampling (the original service used 120 as its fixed budget).',
  ),

  // --- stability ----------------------------------------------------------------------------
  MIN_COMPARISONS_FOR_STABILITY_CHECK: batch(
    intRange(0, 10_000_000),
    12,
    'successful comparisons',
    'Stability is not assessed before this many successful comparisons (failed callbacks never count).',
  ),
  MIN_COMPARISONS_PER_ESSAY_FOR_STABILITY: batch(
    numberRange(0, 1000),
    5,
    'successful comparisons per essay',
    'Stability is not assessed before the mean successful comparisons per essay reach this (2 * completed / n): a batch is never called stable while its coverage would be flagged sparse (same figure as SPARSE_COVERAGE_MIN_COMPARISONS_PER_ITEM). Without it, 6-12 essay batches stopped as stable after ~2 comparisons per essay (6 of 8 runs at n=12 with `npm run -s sim -- --n 12 --runs 8 --json`).',
  ),
  SCORE_STABILITY_THRESHOLD: batch(
    numberRange(0, 10),
    0.025,
    'logits',
    'Scores are stable when the largest absolute change of any score between two evaluations is below this. 0 makes stability unreachable.',
  ),

  // --- small nets and resampling ------------------------------------------------------------
  RESAMPLING_ENABLED: batch(
    z.boolean(),
    true,
    'flag',
    'Whether small nets are resampled after full coverage.',
  ),
  MIN_RESAMPLING_NET_SIZE: batch(
    intRange(0, 100),
    3,
    'essays',
    'A batch with n <= this many essays is a small net: after full coverage it may be resampled.',
  ),
  MAX_RESAMPLING_PASSES_FOR_SMALL_NET: batch(
    intRange(0, 20),
    4,
    'passes',
    'Most resampling passes (each re-judges every judged pair once, orientation flipped) for a small net.',
  ),

  // --- failure handling ---------------------------------------------------------------------
  MIN_SUCCESS_RATE: batch(
    fraction,
    0.8,
    'ratio',
    'A batch whose completed / (completed + failed) is below this when it would finalize ends FAILED with low_success_rate.',
  ),
  MAX_ATTEMPTS_PER_PAIR: batch(
    intRange(1, 10),
    3,
    'attempts',
    'A pair whose attempts all failed is retried (within the budget) until it has been tried this many times.',
  ),
  MAX_ITERATIONS: batch(
    intRange(1, 1000),
    500,
    'waves',
    'Iteration cap: most continuation waves a batch may plan before it must finalize.',
  ),
  COMPARISON_DEADLINE_SECONDS: batch(
    intRange(1, 86_400),
    900,
    'seconds',
    'A comparison with no callback this long after it was sent is failed with reason timeout by the sweeper.',
  ),
  MAX_WAVES_WITHOUT_SUCCESS: batch(
    intRange(1, 100),
    3,
    'waves',
    'A batch whose first this-many waves produced no successful comparison ends FAILED no_successful_comparisons instead of spending the rest of its budget on a judge that fails every call.',
  ),

  // --- pairing ------------------------------------------------------------------------------
  PAIRING_STRATEGY: batch(
    z.enum(['adaptive', 'random']),
    'adaptive',
    'strategy',
    'How coverage waves choose pairs: adaptive uses current scores and SEs; random is the balanced random baseline.',
  ),
  PAIRING_EXPLORATION_COMPARISONS_PER_ESSAY: batch(
    numberRange(0, 100),
    2,
    'comparisons per essay',
    'Adaptive coverage plans random waves until the mean comparisons per essay (pending or judged) reaches this, so the comparison graph is connected before scores steer pairing. Measured at n=100, true SD 2, 15 per essay (24-48 seeds): 1, 2 and 4 equal within noise (median Spearman 0.941-0.944).',
  ),
  PAIRING_THOMPSON_SCALE: batch(
    numberRange(0, 10),
    0.2,
    'standard errors',
    'Adaptive coverage pairs neighbours in scores drawn from N(score, (scale * SE)^2); 0 pairs by the point scores alone, larger values explore more (1 is plain Thompson sampling). With the posterior scores and PAIRING_FOCUS_FRACTION 0.6, measured at n=100, true SD 2, 15 per essay (seeds 1-48, mean Spearman; `npx tsx` loop over simulateBatch): 1: 0.947 (focus 0.85), 0.5: 0.952, 0.3: 0.954, 0.15: 0.955, 0: 0.955; a little randomness is kept so the comparison graph stays mixed.',
  ),
  PAIRING_CANDIDATE_WINDOW: batch(
    intRange(1, 100),
    8,
    'essays',
    'Adaptive coverage looks at most this many unmatched neighbours on each side (in sampled-score order) for a partner not yet met, before falling back to a random new partner. Measured at n=100, 15 per essay (24 seeds): 3 and 30 equal to 8 within noise; fewer than 0.1% of pairs needed the random fallback.',
  ),
  PAIRING_RANDOM_CANDIDATES: batch(
    intRange(1, 256),
    16,
    'draws',
    'Random partners drawn for an essay before an exhaustive scan of the unmatched essays; keeps planning O(n) per wave while new partners are plentiful.',
  ),
  PAIRING_FOCUS_FRACTION: batch(
    z.number().gt(0).max(1),
    0.6,
    'fraction of essays',
    'Adaptive coverage waves include only this fraction of the essays: those whose rank is most uncertain (SE times the number of essays within one SE). 1 includes every essay in every wave. Measured with the posterior scores at n=100, true SD 2, 15 per essay (seeds 1-48, mean Spearman, Thompson scale 0.3): 0.5: 0.953, 0.6: 0.954, 0.7: 0.952; 0.85 with scale 1 (the former defaults): 0.945; 1 (every essay): 0.939. Smaller fractions mean more, smaller waves. Ablation: npm run -s bench:efficiency -- --strategies adaptive,adaptive-unfocused.',
  ),

  // --- wave sizing --------------------------------------------------------------------------
  WAVE_MIN_COMPARISONS: batch(
    intRange(1, 100_000),
    150,
    'comparisons',
    'A wave plans further rounds (each a matching: every essay at most once per round, never a pair twice in a wave) until it holds at least this many comparisons or WAVE_MAX_APPEARANCES_PER_ESSAY rounds. A batch\'s wall time is its waves times the slowest callback of each (the gate waits for all of them, and a lost callback for its deadline and the sweeper), so small batches plan fewer, larger waves; batches whose one matching already holds this many plan one round, as before. Measured with `npm run -s bench:waves` (BENCHMARKS.md, "Wave sizing").',
  ),
  WAVE_GROWTH_FACTOR: batch(
    numberRange(0, 1000),
    1.5,
    'times the successful comparisons so far',
    'A wave plans further rounds only while it holds fewer than this many times the successful comparisons the batch has so far (and fewer than WAVE_MIN_COMPARISONS): waves grow geometrically, so each is planned on scores fitted from at least as much data as it adds, and a batch with no success yet (a judge that fails every call) plans one round per wave as before. Measured with `npm run -s bench:waves` (BENCHMARKS.md, "Wave sizing").',
  ),
  WAVE_PENDING_INFORMATION: batch(
    numberRange(0, 10),
    1,
    'times the Fisher information of a comparison',
    'Later rounds of a wave plan with each essay\'s SE shrunk as if its comparisons already in the wave were judged: its precision (1/SE²) plus this many times p(1 − p) per comparison, p from the current scores (wave-sizing.ts, pendingAwareSe). So the adaptive focus and the Thompson spread move on to other essays instead of giving the same most-uncertain essays every round of the wave. 0 plans every round on the same SEs. Measured with `npm run -s bench:waves` (BENCHMARKS.md, "Wave sizing"): with 20 % of callbacks lost, WAVE_GROWTH_FACTOR 1.5 and 0 here cost Spearman (paired mean −0.010 at n = 20 on 400 runs), 1 here none.',
  ),
  WAVE_MAX_APPEARANCES_PER_ESSAY: batch(
    intRange(1, 8),
    4,
    'comparisons per essay per wave',
    'Most rounds of one wave, so the most comparisons one essay has in one wave. 1 is the one-appearance-per-wave rule (one matching per wave). Measured with `npm run -s bench:waves` (BENCHMARKS.md, "Wave sizing").',
  ),

  // --- Bradley–Terry ------------------------------------------------------------------------
  BT_PRIOR_ALPHA: batch(
    numberRange(0.0001, 100),
    0.01,
    'precision (1/logit^2)',
    'Ridge prior precision of the Bradley–Terry MAP fit (prior variance 1/alpha); keeps disconnected or separated data finite.',
  ),
  BT_STANDARD_ERROR_MAX: batch(
    z.number().positive().max(100),
    2.0,
    'logits',
    'bt_se_inflated is raised when the largest SE exceeds this.',
  ),
  SPARSE_COVERAGE_MIN_COMPARISONS_PER_ITEM: batch(
    numberRange(0, 1000),
    5,
    'comparisons per essay',
    'comparison_coverage_sparse is raised when the mean successful comparisons per essay is below this.',
  ),
  BT_FIT_TOLERANCE: deployment(
    z.number().positive(),
    1e-9,
    'logits',
    'The Bradley–Terry Newton iteration stops when its largest score step is below this (Newton converges quadratically, so the scores are then accurate far beyond reporting precision).',
  ),
  BT_MAX_NEWTON_ITERATIONS: deployment(
    positiveInt,
    100,
    'iterations',
    'Cap on Newton iterations of one Bradley–Terry fit; typical fits need under 15.',
  ),
  BT_EXACT_SE_MAX_N: deployment(
    intRange(0, 4000),
    1000,
    'essays',
    'Standard errors are exact (dense Cholesky, O(n^3) time, 8n^2 bytes) up to this many essays and approximated (stochastic diagonal estimation) beyond. At most 4,000 (a 128 MB matrix) so no setting can exhaust the continuation memory. Measured with `npm run -s bench:bt -- --n N --m 10N --runs 1 --compare-se --json` on the shared 2-core machine: the exact-SE fit costs ~0.5 s CPU at n=1,000 but 3.6-4.0 s CPU (10-20 s wall) at n=2,000, where the approximation costs ~0.3 s CPU with median 0.15-0.17 % and max 1.9-3.2 % relative SE error.',
  ),
  BT_APPROX_SE_PROBES: deployment(
    positiveInt,
    128,
    'probe vectors',
    'Rademacher probes of the approximate standard errors to start with (one sparse solve each); error shrinks like 1/sqrt(probes), and more are added up to BT_APPROX_SE_MAX_PROBES while the estimated error exceeds BT_APPROX_SE_TARGET_ERROR. Measured relative SE error vs exact at a fixed probe count (`npm run -s bench:bt -- --n 1000 --m 10000 --runs 1 --probes K --compare-se --json`): 32 probes median 0.32 % / max 3.5 %, 64: 0.22 % / 1.4 %, 128: 0.15-0.18 % / 1.9-3.8 % (seeds 1-3); at n=300, 128 probes: 0.16-0.18 % / 1.1-1.7 %.',
  ),
  BT_APPROX_SE_CG_TOLERANCE: deployment(
    z.number().positive().max(1),
    1e-3,
    'relative residual',
    'Conjugate-gradient tolerance of each probe solve of the approximate standard errors. Measured at n=1,000, m=10,000, 64 probes: 1e-6 / 1e-4 / 1e-3 took 11.7 / 7.1 / 4.7 CG iterations per probe with the same SE error (median 0.22 %, max 1.4 %), so the probe noise, not the solve, sets the error; 1e-3 is the cheapest of those.',
  ),
  BT_APPROX_SE_MAX_PROBES: deployment(
    positiveInt,
    1024,
    'probe vectors',
    'Cap on the probes of the approximate standard errors (sparse, tree-like comparison graphs need the most; a probe costs about ten sparse products, so the cap bounds the time at about 8x the dense case).',
  ),
  BT_APPROX_SE_TARGET_ERROR: deployment(
    z.number().positive().max(1),
    0.03,
    'relative standard error',
    "Probes are added until the estimated relative standard error of the worst item's approximate SE is below this (or BT_APPROX_SE_MAX_PROBES). At n=10,000, m=100,000 the 128 starting probes already give 0.028, so dense data costs nothing extra; at n=300-400 with 1-2 comparisons per essay 128 probes gave 0.05-0.11 and max errors of 10-19 %, the adaptive count (~450-1,024 probes) max 4-10 %, median 0.2-0.5 %.",
  ),
  SPLIT_HALF_SPLITS: batch(
    intRange(1, 20),
    20,
    'splits',
    'Random halvings of the comparisons behind the split-half reliability (median over splits). Each costs two fits at finalization (about 1.2 s of the continuation step per split at n = 20,000 on the loaded 2-core machine), so a batch may lower it but not raise it above the default.',
  ),
  BT_PRIOR_MODE: batch(
    z.enum(['empirical_bayes', 'fixed']),
    'empirical_bayes',
    'mode',
    "Prior of the scores in the engine's Bradley–Terry posterior (shared/domain/posterior.ts), used for the reported scores and SEs, for adaptive pairing, and by `cj score`: one scale. empirical_bayes: N(0, s^2) with s^2 estimated from the data (EM on the posterior, within [BT_EB_MIN_VARIANCE, 1/BT_PRIOR_ALPHA]); fixed: s^2 = 1/BT_PRIOR_ALPHA (the weak ridge). Chosen by simulation (BENCHMARKS.md, Ranking efficiency): under adaptive pairing at n=100, true SD 2, its 95 % intervals cover the true score and its EAP reliability tracks the true r^2; the weak prior's intervals under-cover.",
  ),
  BT_EB_MIN_VARIANCE: batch(
    numberRange(0.001, 100),
    0.25,
    'logit^2',
    'Floor of the empirical-Bayes prior variance: with little or uninformative data the estimate can approach zero, which would flatten every score. The ceiling is 1/BT_PRIOR_ALPHA, so the prior is never weaker than the fixed ridge.',
  ),
  BT_EB_VARIANCE_PRIOR_MEDIAN: batch(
    numberRange(0.001, 1000),
    4,
    'logit^2',
    'Median of the weakly informative hyperprior of the empirical-Bayes prior variance, log s^2 ~ N(log median, BT_EB_VARIANCE_PRIOR_LOG_SD^2): a true SD of 2 logits, typical of CJ data. It matters only when the data say little about the spread (about 5 comparisons per essay).',
  ),
  BT_EB_VARIANCE_PRIOR_LOG_SD: batch(
    numberRange(0.01, 10),
    1.5,
    'log(logit^2)',
    'SD of log s^2 in that hyperprior (95 % of its mass between s^2 = 0.2 and 76). Measured at n=100, true SD 2, 5 per essay (seeds 1-16): without it the estimate ran away to 34 in one run (mean 7.3, median 3.4); with it mean 5.9, median 3.5, same figures from 10 per essay on.',
  ),
  BT_EB_INTEGRATE_VARIANCE: batch(
    z.boolean(),
    true,
    'flag',
    "Integrate the estimated prior variance out of the posterior (5-node Gauss-Hermite rule over log s^2, weighted by EP's evidence) instead of plugging the estimate in. Under adaptive pairing most comparisons are near-equal and say little about the spread: at n=100, true SD 2, 15 per essay the estimate ranged from 0.43 to 1.7 times the essays' actual variance (seeds 1-12) and plugging it in left 95 % intervals covering 91 %. Costs about 6 more EP solves, warm-started.",
  ),
  BT_ORDER_EFFECT: batch(
    z.boolean(),
    true,
    'flag',
    "Estimate the order effect (log-odds bonus of the essay shown first) jointly with the scores, so the scores are free of a judge's position bias; reported in processing_metadata.order_effect.",
  ),
  BT_ORDER_EFFECT_PRIOR_SD: batch(
    numberRange(0.01, 10),
    1,
    'logits',
    'Prior SD of the order effect (N(0, SD^2)): weak next to the effects LLM judges show (first-shown essay picked 60-65 % at equal quality, about 0.4-0.6 logits) and to the data of any batch.',
  ),
  BT_POSTERIOR_TOLERANCE: deployment(
    z.number().positive(),
    1e-4,
    'logits',
    'The posterior fit (expectation propagation) stops when no posterior mean and not the prior variance moved by more than this in a sweep over the comparisons.',
  ),
  BT_POSTERIOR_MAX_SWEEPS: deployment(
    positiveInt,
    500,
    'sweeps',
    'Cap on sweeps of the posterior fit; typical fits need 40-100 (more when the data say little about the prior variance).',
  ),
  // --- input limits -------------------------------------------------------------------------
  MAX_ESSAY_CHARS: deployment(
    z.number().int().positive().max(90_000),
    50_000,
    'characters (UTF-16 code units)',
    'Longest essay text accepted: longer is a 400 naming `essays[i].text`, inline and in pages. At most 4 bytes per character keeps an essay item well under the 400 KB DynamoDB item limit. A deployment maximum: the default is also the largest value; a deployment may lower it (`cdk deploy -c maxEssayChars=N`, env MAX_ESSAY_CHARS of create-batch and add-essays; docs/deploy.md).',
  ),
  MAX_ESSAY_ID_CHARS: deployment(
    z.number().int().positive().max(512),
    128,
    'characters',
    'Longest client essay id accepted (ids use the charset [A-Za-z0-9._:-]). A deployment limit: a batch cannot override it.',
  ),
  MAX_ESSAYS_PER_PAGE: deployment(
    z.number().int().positive().max(5000),
    1000,
    'essays',
    'Most essays in one create request or essay page; also the size of the stored essay-id chunks, so 1,000 ids of 128 characters stay near 130 KB per item. A deployment limit: a batch cannot override it.',
  ),
  MAX_ESSAYS_PER_BATCH: deployment(
    z.number().int().positive().max(24_000),
    20_000,
    'essays',
    "Most essays in one batch (HTTP 400 beyond it). Results are served in pages of RESULTS_PAGE_ROWS, so Lambda's 6 MB response does not bound it (a whole 20,000-essay results JSON without grades is 5.3 MB, with 30 grades 43 MB); the ceiling of 24,000 stays until larger batches are measured end to end. A deployment maximum like MAX_ESSAY_CHARS: more is a 400 naming `essays` (inline) or `essay_count` (paged); lowered with `-c maxEssaysPerBatch=N` (env MAX_ESSAYS_PER_BATCH).",
  ),
  MAX_BUDGET_PER_BATCH: deployment(
    intRange(1, BUDGET_MAXIMUM_LIMIT),
    200_000,
    'comparisons',
    "Largest budget of one batch (the most LLM calls it can cost: twice this with judge_both_orders): a larger `budget` is a 400 naming `budget`, and a default budget (DEFAULT_COMPARISONS_PER_ESSAY) is cut to it. 200,000 is 10 comparisons per essay at MAX_ESSAYS_PER_BATCH (the default budget there is 150,000); the continuation's time at this size is checked by test/unit/domain/override-bounds.test.ts. A deployment maximum: set with `cdk deploy -c maxBudgetPerBatch=N` (env MAX_BUDGET_PER_BATCH of create-batch), up to 1,000,000.",
  ),
  MAX_ESSAY_METADATA_BYTES: deployment(
    z.number().int().positive().max(65_536),
    8_192,
    'bytes (JSON, UTF-8)',
    "Largest metadata object of one essay: with MAX_ESSAY_CHARS of text it keeps an essay item under DynamoDB's 400 KB. A deployment limit: a batch cannot override it.",
  ),
  MAX_GRADES: deployment(
    z.number().int().min(2).max(100),
    30,
    'grades',
    "Most grades on a batch's grade_scale (docs/grades.md); finer ordered scales have no use in assessment. The scale is stored in the batch's SETTINGS item (30 labels of MAX_GRADE_LABEL_CHARS: about 1 KB) and every result row carries one probability per grade (result items are filled up to RESULTS_ITEM_MAX_BYTES, so more grades mean more, smaller items). A deployment limit: a batch cannot override it.",
  ),
  MAX_GRADE_LABEL_CHARS: deployment(
    z.number().int().positive().max(256),
    32,
    'characters',
    'Longest grade label of a grade_scale (e.g. "A", "7", "Merit", "Working towards"). A deployment limit: a batch cannot override it.',
  ),

  // --- throttling and in-flight caps (docs/deploy.md, docs/security.md) ---------------------
  API_RATE_LIMIT_PER_SECOND: deployment(
    intRange(1, 10_000),
    50,
    'requests per second',
    "Steady request rate of the HTTP API stage (API Gateway default route throttling); past it API Gateway answers 429 before any function runs. 50/s is far above what a team's clients send (the CLI polls once every few seconds; a 20,000-essay upload is 20 pages) and keeps a runaway client from spending the account's Lambda concurrency. Set with `cdk deploy -c apiRateLimit=N`, up to the account's 10,000.",
  ),
  API_BURST_LIMIT: deployment(
    intRange(1, 5_000),
    100,
    'requests',
    "Burst of the HTTP API stage (the token bucket above API_RATE_LIMIT_PER_SECOND): concurrent requests accepted at once before 429. Set with `cdk deploy -c apiBurstLimit=N`, up to the account's 5,000.",
  ),
  MAX_BATCHES_IN_FLIGHT_PER_PRINCIPAL: deployment(
    intRange(1, 1_000),
    25,
    'batches',
    'Most batches one caller (IAM principal; an assumed role counts once whatever its session name) may have in flight: started (RUNNING) and not yet final. 25 leaves room for a team submitting a class set at once (the chaos soak submits 20 batches from one caller). One more is a 429 naming this limit, on `POST /batches` with inline essays and on `POST /batches/{id}/start` (a paged create is also refused while the caller is at the cap). Counted with conditional writes in the same transaction that starts a batch and released in the one that makes it final. Set with `cdk deploy -c maxBatchesInFlightPerPrincipal=N` (env MAX_BATCHES_IN_FLIGHT_PER_PRINCIPAL of create-batch and start-batch).',
  ),
  MAX_ESSAYS_IN_FLIGHT: deployment(
    intRange(2, 1_000_000),
    100_000,
    'essays',
    "Most essays of all callers' batches in flight together (the deployment's whole load: five batches of MAX_ESSAYS_PER_BATCH). A batch that would take the total past it is a 429 naming this limit; at least MAX_ESSAYS_PER_BATCH, so any accepted batch can run once others end. Set with `cdk deploy -c maxEssaysInFlight=N` (env MAX_ESSAYS_IN_FLIGHT of create-batch and start-batch).",
  ),

  // --- storage ------------------------------------------------------------------------------
  BATCH_TTL_DAYS: deployment(
    positiveInt,
    30,
    'days',
    'Every stored item of a batch expires (DynamoDB TTL) this long after the batch was created.',
  ),
  STORE_MAX_ATTEMPTS: deployment(
    positiveInt,
    6,
    'attempts',
    'Most attempts of one DynamoDB call on throttling, transaction conflicts or internal errors (on top of the SDK retries) before the error surfaces.',
  ),
  STORE_RETRY_BASE_DELAY_MS: deployment(
    positiveInt,
    50,
    'milliseconds',
    'Base of the full-jitter exponential backoff between store retries: attempt k sleeps uniform(0, min(max, base * 2^k)).',
  ),
  STORE_RETRY_MAX_DELAY_MS: deployment(
    positiveInt,
    2000,
    'milliseconds',
    'Cap of one backoff sleep between store retries.',
  ),
  RESULTS_PER_ITEM: deployment(
    z.number().int().positive().max(1500),
    1000,
    'essays',
    'Results stored per DynamoDB item at finalization; 1,000 rows with 128-character ids stay near 200 KB, under the 400 KB item limit.',
  ),
  RESULTS_ITEM_MAX_BYTES: deployment(
    z.number().int().positive().max(350_000),
    300_000,
    'bytes (rows as JSON, UTF-8)',
    "Most bytes of result rows in one DynamoDB item: an item holds up to RESULTS_PER_ITEM rows but no more than this (measured as JSON, which is at least DynamoDB's size of the same rows), so rows with grade probabilities (one per grade, up to MAX_GRADES labels of MAX_GRADE_LABEL_CHARS) are spread over more items instead of exceeding the 400 KB item limit.",
  ),
  RESULTS_PAGE_ROWS: deployment(
    z.number().int().positive().max(2000),
    1000,
    'essays',
    "Most result rows in one page of GET /batches/{id}/results (the default page; `limit` may ask for fewer). Bound by Lambda's 6 MB response: 1,000 worst-case rows (128-character ids, widest numbers, MAX_GRADES probabilities with labels of MAX_GRADE_LABEL_CHARS) are 2.1 MB once wrapped in the HTTP response, so 2,000 stay under 6 MB (test/unit/messages/aws-limits.test.ts); the whole results of a 20,000-essay batch with 30 grades would be 43 MB.",
  ),
  BATCH_LIST_PAGE_SIZE: deployment(
    z.number().int().positive().max(100),
    100,
    'batches',
    'Most batches in one page of GET /batches (the default page; `limit` may ask for fewer). Each listed batch is one META read (a BatchGetItem key, at most 100 per call), so a page costs one index query and one BatchGetItem.',
  ),
  BATCH_LIST_MAX_INDEX_PAGES: deployment(
    z.number().int().positive().max(50),
    10,
    'index queries',
    'Most owner-index queries one GET /batches call makes while a `status` filter skips batches: past it the page ends short (even empty) with a `next_cursor`, so a rare status among many batches never runs the function past its timeout.',
  ),
  WAVE_HISTORY_MAX_POINTS: batch(
    z.number().int().min(10).max(5000),
    400,
    'points',
    'Most points of the pending-callbacks timeline that GET /batches/{id}/waves returns (every wave start and the last point kept, the rest thinned to the highest count per time slice): enough for a 960-pixel chart, and the answer stays near 30 KB for any batch size.',
  ),
  // --- pipeline (Lambda functions and queues) -----------------------------------------------
  QUEUE_MAX_RECEIVE_COUNT: deployment(
    positiveInt,
    5,
    'deliveries',
    'Deliveries of one queue message before SQS moves it to the dead-letter queue (the redrive maxReceiveCount; AWS advises at least 5). The judge treats receive count >= this - 1 as its last attempt and sends a failure callback instead of giving up silently.',
  ),
  JUDGE_INPROCESS_ATTEMPTS: deployment(
    positiveInt,
    3,
    'attempts',
    'Provider calls the judge makes for one delivery on a retryable failure before leaving the message to SQS redelivery.',
  ),
  JUDGE_RETRY_BASE_DELAY_MS: deployment(
    nonNegativeInt,
    200,
    'milliseconds',
    'Base of the full-jitter exponential backoff between in-process provider retries: attempt k sleeps uniform(0, min(max, base * 2^k)).',
  ),
  JUDGE_RETRY_MAX_DELAY_MS: deployment(
    nonNegativeInt,
    2000,
    'milliseconds',
    'Cap of one backoff sleep between in-process provider retries.',
  ),
  MOCK_LATENCY_MAX_MS: deployment(
    nonNegativeInt,
    5000,
    'milliseconds',
    'Longest mock-judge latency the judge function actually waits, so a misconfigured batch cannot run a function into its timeout.',
  ),
  SQS_SEND_MAX_ATTEMPTS: deployment(
    positiveInt,
    4,
    'attempts',
    'Attempts to send the entries SendMessageBatch reported as failed (with backoff) before the error surfaces and the message is redelivered.',
  ),
  SQS_SEND_RETRY_BASE_DELAY_MS: deployment(
    nonNegativeInt,
    50,
    'milliseconds',
    'Base of the full-jitter exponential backoff between attempts to resend failed SendMessageBatch entries.',
  ),
  WAVE_SEND_CHUNK: deployment(
    positiveInt,
    500,
    'requests',
    "The continuation records how far a wave's requests were sent after each chunk of this many (one small write on the wave's ledger record), so a resumed or repeated trigger never sends a request twice and a crash mid-send re-sends at most one chunk (the judge skips the answered ones). A deployment setting.",
  ),
  VERDICT_CACHE_RECORDS: deployment(
    positiveInt,
    1_000_000,
    'comparisons',
    'Most closed-wave verdicts a continuation container keeps decoded in memory (about 100 bytes each), so the next step of the same batch reads only its latest wave; a cold container reads the packed verdicts (~7 bytes per comparison) instead. A deployment setting.',
  ),
  MAX_CONTINUATION_FAILURES: deployment(
    positiveInt,
    5,
    'failed steps',
    "A batch whose continuation step has failed (thrown) this many times ends FAILED internal_error with its one event, instead of being retried by SQS and re-triggered by the sweeper until its items expire. 5 is the continuation queue's maxReceiveCount (QUEUE_MAX_RECEIVE_COUNT): one trigger's deliveries, so a bug ends the batch before the trigger is dead-lettered. A deployment setting.",
  ),
  SWEEPER_MAX_TIMEOUTS_PER_RUN: deployment(
    positiveInt,
    500,
    'comparisons',
    'Most expired comparisons one sweeper run times out (an equal quota per running batch whose wave is overdue, then what the batches with fewer left over); the rest wait for the next run (every minute), keeping one run well inside its Lambda timeout.',
  ),
  // --- provider rate limits (the judge's shared limiter; shared/domain/rate-limit.ts) -------
  PROVIDER_RATE_LIMITS: deployment(
    z.record(
      z.string().regex(/^[a-z0-9_-]{1,64}$/),
      z
        .object({
          requests_per_minute: z.number().positive().max(1_000_000),
          tokens_per_minute: z.number().positive().max(1_000_000_000).optional(),
        })
        .strict(),
    ),
    {},
    'requests and tokens per minute, by provider or named endpoint',
    'The limits every judge invocation shares, keyed by provider (`openai`, `anthropic`, `mock`) or named endpoint: e.g. {"openai": {"requests_per_minute": 500, "tokens_per_minute": 200000}}. Set them to the deployment\'s account tier; a provider without an entry is not paced (the judge concurrency and retry-after still apply). A deployment setting: a batch may not override it.',
  ),
  ADMIN_PRINCIPALS: deployment(
    z.array(
      z
        .string()
        .regex(
          /^arn:aws[a-z-]*:(iam|sts)::\d{12}:[A-Za-z0-9+=,.@_/-]+$/,
          'an admin is an IAM user, role or assumed-role ARN',
        ),
    ),
    [],
    'IAM principal ARNs',
    "Principals that may read, cancel and list every batch (`cdk deploy -c adminPrincipals=arn:aws:iam::123456789012:role/Ops,...`, docs/security.md); everyone else sees only the batches they created, and another caller's batch is a 404. A role names every session of it. None by default. A deployment setting: a batch may not override it.",
  ),
  JUDGE_ENDPOINTS: deployment(
    z.record(z.string(), providerBaseUrlSchema).superRefine((endpoints, ctx) => {
      for (const name of Object.keys(endpoints)) {
        const issue = endpointNameSchema.safeParse(name).error?.issues[0];
        if (issue)
          ctx.addIssue({ code: 'custom', path: [name], message: `"${name}": ${issue.message}` });
      }
    }),
    {},
    'endpoint name → base URL',
    'The OpenAI-compatible servers this deployment judges with, by name: e.g. {"local-llama": "https://llm.internal.example/v1"} (`cdk deploy -c judgeEndpoints=local-llama=https://llm.internal.example/v1`, docs/deploy.md). A batch picks one with `judge.endpoint`; a deployed stack refuses a raw `judge.base_url`. Each endpoint has its own API key secret or none.',
  ),
  JUDGE_BATCH_ENDPOINTS: deployment(
    z.array(endpointNameSchema).max(64),
    [],
    'endpoint names',
    'The named endpoints (JUDGE_ENDPOINTS) that implement the OpenAI Batch API shape (`POST /files`, `POST /batches`, `GET /batches/{id}`, `GET /files/{id}/content`, cancel): e.g. ["local-llama"] (`cdk deploy -c judgeBatchEndpoints=local-llama`, docs/deploy.md). Only these take `judge.mode` provider_batch, submitted and collected by the provider-batches function with the key of that endpoint (or none); every name must be one of JUDGE_ENDPOINTS.',
  ),
  RATE_LIMIT_UTILIZATION: deployment(
    z.number().gt(0).max(1),
    0.95,
    'share of the limit',
    'Share of each provider limit the limiter aims at, leaving headroom for clock skew and the provider counting differently. Measured with `npm run -s bench:rate` (BENCHMARKS.md, "Provider rate limits").',
  ),
  RATE_LIMIT_BURST: deployment(
    z.number().min(1).max(1000),
    1,
    'requests (and seconds of tokens)',
    'Requests (and seconds of tokens) admitted at once above the steady pace, GCRA tolerance: 1 is none; providers enforce per-minute limits over periods as short as a second, so bursts risk 429s.',
  ),
  RATE_LIMIT_BACKOFF_FACTOR: deployment(
    z.number().gt(0).lt(1),
    0.7,
    'multiplier',
    'On a 429 the pace of that provider is multiplied by this (and nothing is sent before its retry-after); it then recovers in time (RATE_LIMIT_RECOVERY_MS).',
  ),
  RATE_LIMIT_MIN_FACTOR: deployment(
    z.number().gt(0).max(1),
    0.1,
    'share of the limit',
    'Floor of the adaptive pace after repeated 429s.',
  ),
  RATE_LIMIT_RECOVERY_MS: deployment(
    positiveInt,
    60_000,
    'milliseconds',
    'After a 429 the adaptive pace climbs back linearly in time: from a factor of 0 to the full RATE_LIMIT_UTILIZATION in this long (from 0.7 in 30 % of it), with no store write per answer. Measured with `npm run -s bench:rate` (BENCHMARKS.md, "Provider rate limits").',
  ),
  RATE_LIMIT_MAX_WAIT_MS: deployment(
    intRange(0, 60_000),
    5000,
    'milliseconds',
    'The judge takes a slot up to this far ahead and waits for it in process; a request whose slot is later goes back to the queue, delayed until shortly (half of this) before its turn, so no function idles long and no request polls the limiter.',
  ),
  RATE_LIMIT_RESERVE_AHEAD_MS: deployment(
    intRange(0, 900_000),
    60_000,
    'milliseconds',
    "A request re-queued for a slot up to this far ahead carries the slot booked for it (admitted on its return without a store write); a request whose turn is later is not booked but told when to come back, so a batch starting behind a large one waits at most this long for its share. At most SQS's 900 s delay.",
  ),
  RATE_LIMIT_ACTIVE_WINDOW_MS: deployment(
    positiveInt,
    10_000,
    'milliseconds',
    'A batch refused by the limiter counts as waiting this long (and as long as it has refused requests due back): while another batch waits, each batch may use at most an equal share of the rate (a large batch cannot starve a small one); with nobody else waiting a batch may use the whole rate.',
  ),
  // --- offline scoring (cj score) -----------------------------------------------------------
  JUDGE_MISFIT_SD_MULTIPLIER: deployment(
    z.number().positive(),
    2,
    'standard deviations',
    "A judge is flagged as misfitting when its infit mean square exceeds the judges' mean infit plus this many standard deviations (Pollitt 2012; the rule No More Marking reports).",
  ),
  JUDGE_MISFIT_MIN_JUDGES: deployment(
    positiveInt,
    3,
    'judges',
    'Fewest judges with decisions for which judge misfit is flagged; with fewer the spread of infit values says nothing.',
  ),
  // --- LLM judges (real providers) -------------------------------------------------------------
  JUDGE_CALL_TIMEOUT_MS: deployment(
    positiveInt,
    30_000,
    'milliseconds',
    'Timeout of one provider HTTP call (AbortSignal.timeout); a timed-out call is a retryable `timeout` failure. With JUDGE_INPROCESS_ATTEMPTS calls (twice as many with judge_both_orders) it must fit the judge function timeout.',
  ),
  PROVIDER_RESPONSE_MAX_BYTES: deployment(
    z
      .number()
      .int()
      .min(64 * 1024)
      .max(64 * 1024 * 1024),
    1024 * 1024,
    'bytes',
    "Largest response body read from a provider call (a judge's chat completion or message, a provider batch API's control call): the body is streamed and reading stops past this, failing the call as `response_too_large` (not retried), so a misbehaving server cannot fill the function's memory. An answer is a few KB; a page of 100 provider batches a few hundred. Results files are streamed line by line instead (PROVIDER_BATCH_MAX_RESULT_LINE_BYTES).",
  ),
  JUDGE_CLAIM_SECONDS: deployment(
    intRange(1, 899),
    120,
    'seconds',
    "The lease the judge takes on a comparison before its provider call (one conditional write of `CLAIM#<comparison>`): a copy of the same request (an SQS duplicate, a re-sent wave, a crashed holder's redelivery) that meets a live lease calls nothing and is re-sent to come back when the lease ends, when it skips the comparison if it was answered or takes the lease over if not. As long as the judge function's timeout (120 s), so no live invocation outlives its lease (a longer one only delays the take-over after a crash); under the comparison queue's visibility timeout (720 s; test/infra/stack.test.ts), and below SQS's longest message delay (900 s) so a held-back copy returns after it.",
  ),
  JUDGE_RETRY_AFTER_MAX_MS: deployment(
    nonNegativeInt,
    10_000,
    'milliseconds',
    "Longest wait honoured from a provider's retry-after (seconds or HTTP date) before the next in-process attempt; a longer wait is cut to this (SQS redelivery covers the rest).",
  ),
  JUDGE_DEFAULT_MAX_TOKENS: deployment(
    z.number().int().positive().max(32_768),
    1024,
    'output tokens',
    'Output-token cap of one judge call when the batch sets no max_tokens. The answer itself needs ~100 tokens; the headroom is for reasoning models, whose hidden reasoning counts against the cap. Billing follows actual usage, not the cap.',
  ),
  JUDGE_MAX_OUTPUT_TOKENS: deployment(
    z.number().int().positive().max(131_072),
    32_768,
    'output tokens',
    'Largest max_tokens a batch may give its LLM judge (HTTP 400 beyond it), so one comparison cannot run up an unbounded bill. A deployment limit: a batch cannot override it.',
  ),
  JUDGE_MAX_ASSIGNMENT_CHARS: deployment(
    z.number().int().positive().max(50_000),
    10_000,
    'characters',
    'Longest assignment text a batch may give its LLM judge (HTTP 400 beyond it). A deployment limit: a batch cannot override it.',
  ),
  JUDGE_MAX_RUBRIC_CHARS: deployment(
    z.number().int().positive().max(50_000),
    20_000,
    'characters',
    'Longest rubric text a batch may give its LLM judge (HTTP 400 beyond it). A deployment limit: a batch cannot override it.',
  ),
  JUDGE_JUSTIFICATION_MAX_WORDS: deployment(
    positiveInt,
    50,
    'words',
    'Longest justification the judge may give; a longer one makes the answer a `malformed_answer` failure (the prompt asks for at most this many).',
  ),
  // --- provider batches (judge.mode provider_batch) ---------------------------------------------
  PROVIDER_BATCH_MAX_REQUESTS: deployment(
    positiveInt,
    100_000,
    'requests',
    "Most requests in one provider batch; the provider's own limit applies when lower (OpenAI 50,000 per input file, Anthropic 100,000 per Message Batch). A wave with more comparisons is split into several provider batches.",
  ),
  PROVIDER_BATCH_MAX_BYTES: deployment(
    positiveInt,
    256 * 1024 * 1024,
    'bytes',
    "Most bytes of request lines in one provider batch; the provider's own limit applies when lower (OpenAI 200 MB per input file, Anthropic 256 MB per Message Batch). A wave whose requests are larger is split.",
  ),
  PROVIDER_BATCH_HTTP_TIMEOUT_MS: deployment(
    positiveInt,
    120_000,
    'milliseconds',
    'Timeout of one provider batch API call (upload and create, retrieve, list, cancel). A results download must start within it and may not wait longer than it between two chunks, but as a whole may take longer (bounded by the function). A create that times out is found again by the lookup after its lease.',
  ),
  PROVIDER_BATCH_MAX_RESULT_LINE_BYTES: deployment(
    positiveInt,
    32 * 1024 * 1024,
    'bytes',
    "Longest results-file line read (one judge answer is a few KB); a longer line is skipped unread and its request fails as provider_batch_missing. Bounds the collector's memory: only the current line is held.",
  ),
  PROVIDER_BATCH_DEADLINE_MARGIN_SECONDS: deployment(
    intRange(60, 7 * 86_400),
    2 * 3600,
    'seconds',
    "A comparison judged in a provider batch gets the provider's completion window (24 h for OpenAI and Anthropic) plus this as its deadline: room for submission, polling and collection. Past it the sweeper fails it with timeout and the provider batch is cancelled.",
  ),
  PROVIDER_BATCH_LEASE_SECONDS: deployment(
    positiveInt,
    1200,
    'seconds',
    'How long a claim on a provider batch part (its submission or collection) lasts. Must exceed the provider-batches function timeout (900 s) plus one provider call, so a lapsed claim proves the run that held it is over; then a lost create is looked up before anything is submitted again.',
  ),
  PROVIDER_BATCH_RUN_SECONDS: deployment(
    positiveInt,
    60,
    'seconds',
    'A provider-batches run (scheduled every minute) starts no new part after this long, so runs rarely overlap; a part already started (a large upload or results file) may take longer.',
  ),
  PROVIDER_BATCH_STOP_BEFORE_TIMEOUT_MS: deployment(
    positiveInt,
    60_000,
    'milliseconds',
    'A provider-batches run stops collecting when less than this is left before its timeout: it saves its cursor and releases the part, and the next run resumes there.',
  ),
  JUDGE_MODEL_PRICES_USD_PER_MTOK: deployment(
    z.record(
      z.string().min(1),
      z.object({
        input: z.number().nonnegative(),
        output: z.number().nonnegative(),
        batch: z
          .object({
            input: z.number().nonnegative(),
            output: z.number().nonnegative(),
            verified: z.boolean(),
          })
          .strict()
          .optional(),
      }),
    ),
    {
      'gpt-4o': { input: 2.5, output: 10, batch: { input: 1.25, output: 5, verified: false } },
      'gpt-4o-mini': {
        input: 0.15,
        output: 0.6,
        batch: { input: 0.075, output: 0.3, verified: false },
      },
      'gpt-4.1': { input: 2, output: 8, batch: { input: 1, output: 4, verified: false } },
      'gpt-4.1-mini': {
        input: 0.4,
        output: 1.6,
        batch: { input: 0.2, output: 0.8, verified: false },
      },
      'gpt-4.1-nano': {
        input: 0.1,
        output: 0.4,
        batch: { input: 0.05, output: 0.2, verified: false },
      },
      'claude-sonnet-4': {
        input: 3,
        output: 15,
        batch: { input: 1.5, output: 7.5, verified: true },
      },
      'claude-opus-4': {
        input: 15,
        output: 75,
        batch: { input: 7.5, output: 37.5, verified: true },
      },
      'claude-3-5-haiku': {
        input: 0.8,
        output: 4,
        batch: { input: 0.4, output: 2, verified: true },
      },
      'claude-3-7-sonnet': {
        input: 3,
        output: 15,
        batch: { input: 1.5, output: 7.5, verified: true },
      },
      'claude-opus-4-5': {
        input: 5,
        output: 25,
        batch: { input: 2.5, output: 12.5, verified: true },
      },
      'claude-haiku-4-5': {
        input: 1,
        output: 5,
        batch: { input: 0.5, output: 2.5, verified: true },
      },
      'gpt-5': { input: 1.25, output: 10, batch: { input: 0.625, output: 5, verified: false } },
      'gpt-5-mini': { input: 0.25, output: 2, batch: { input: 0.125, output: 1, verified: false } },
    },
    'USD per 1M tokens (input, output; batch: the provider-batch price)',
    "Provider list prices (standard tier, no cache discounts, as published in 2025 — check before relying on them) behind the estimated cost per comparison. `batch` is the price of the same model through the provider's batch API (judge.mode provider_batch): `verified: true` where it was checked against the provider's own published batch price table (Anthropic, see docs/judges.md), `false` where it is the provider's stated 50 % discount applied to the list price but the per-model figure was not checked. A model matches an entry exactly or as a dated/suffixed variant (`gpt-4o-2024-08-06` uses `gpt-4o`; the longest matching entry wins). An unknown model (e.g. a self-hosted one), or a provider-batch comparison of a model without a batch price, has cost null, never a guess.",
  ),
} as const;

export type ConfigName = keyof typeof CONFIG_SPEC;
export type EngineConfig = { [K in ConfigName]: z.infer<(typeof CONFIG_SPEC)[K]['schema']> };

export const CONFIG_NAMES = Object.keys(CONFIG_SPEC) as ConfigName[];

export const DEFAULT_CONFIG: Readonly<EngineConfig> = Object.freeze(
  Object.fromEntries(CONFIG_NAMES.map((name) => [name, CONFIG_SPEC[name].default])) as EngineConfig,
);

/** A bad configuration name or value; `field` names it so callers can report it verbatim. */
export class ConfigError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(message);
    this.name = 'ConfigError';
  }
}

export function isConfigName(name: string): name is ConfigName {
  return Object.hasOwn(CONFIG_SPEC, name);
}

/** Validates overrides (typed values, e.g. from JSON) and merges them over the defaults. */
export function resolveConfig(overrides: Readonly<Record<string, unknown>> = {}): EngineConfig {
  const config: Record<string, unknown> = { ...DEFAULT_CONFIG };
  for (const [name, value] of Object.entries(overrides)) {
    if (!isConfigName(name)) {
      throw new ConfigError(name, `unknown config name "${name}"`);
    }
    const parsed = CONFIG_SPEC[name].schema.safeParse(value);
    if (!parsed.success) {
      const detail = parsed.error.issues[0]?.message ?? 'invalid value';
      throw new ConfigError(name, `invalid value for ${name}: ${detail}`);
    }
    config[name] = parsed.data;
  }
  return config as EngineConfig;
}

/** Names a batch may override (`perBatch`), in declaration order. */
export const BATCH_CONFIG_NAMES = CONFIG_NAMES.filter((name) => CONFIG_SPEC[name].perBatch);

/**
 * Validates a batch's overrides: every name known and per batch (a deployment setting names its
 * field), every value within its declared range; returns the merged config.
 */
export function resolveBatchConfig(overrides: Readonly<Record<string, unknown>>): EngineConfig {
  for (const name of Object.keys(overrides)) {
    if (isConfigName(name) && !CONFIG_SPEC[name].perBatch) {
      throw new ConfigError(
        name,
        `${name} is a deployment setting: a batch cannot override it (per batch: see docs/config.md)`,
      );
    }
  }
  return resolveConfig(overrides);
}

/** The allowed values of a setting, read from its schema (docs/config.md's "range" column). */
export type SettingRange =
  | {
      kind: 'number';
      integer: boolean;
      min: number;
      max: number;
      minExclusive: boolean;
      maxExclusive: boolean;
    }
  | { kind: 'boolean' }
  | { kind: 'enum'; values: readonly string[] }
  | { kind: 'object' };

export function settingRange(name: ConfigName): SettingRange {
  const json = z.toJSONSchema(CONFIG_SPEC[name].schema) as {
    type?: string;
    enum?: string[];
    minimum?: number;
    maximum?: number;
    exclusiveMinimum?: number;
    exclusiveMaximum?: number;
  };
  if (json.enum !== undefined) return { kind: 'enum', values: json.enum };
  if (json.type === 'boolean') return { kind: 'boolean' };
  if (json.type === 'number' || json.type === 'integer') {
    const integer = json.type === 'integer';
    const lower = json.exclusiveMinimum ?? json.minimum;
    const upper = json.exclusiveMaximum ?? json.maximum;
    return {
      kind: 'number',
      integer,
      // zod's int() alone declares the safe-integer bounds.
      min: lower ?? Number.NEGATIVE_INFINITY,
      max: upper ?? Number.POSITIVE_INFINITY,
      minExclusive: json.exclusiveMinimum !== undefined,
      maxExclusive: json.exclusiveMaximum !== undefined,
    };
  }
  return { kind: 'object' };
}

/**
 * Splits `NAME=VALUE` and types VALUE by the entry's default (number, boolean, else string),
 * without checking the name or the range: the CLI sends what it was given and the API's 400 names
 * the field (an unknown name's value stays a string).
 */
export function coerceConfigAssignment(assignment: string): [string, unknown] {
  const eq = assignment.indexOf('=');
  if (eq <= 0) {
    throw new ConfigError(assignment, `expected NAME=VALUE, got "${assignment}"`);
  }
  const name = assignment.slice(0, eq).trim();
  const raw = assignment.slice(eq + 1).trim();
  if (!isConfigName(name)) return [name, raw];
  const sample = CONFIG_SPEC[name].default;
  if (typeof sample === 'number') {
    const value = raw === '' ? Number.NaN : Number(raw);
    return [name, Number.isNaN(value) ? raw : value];
  }
  if (typeof sample === 'boolean') {
    if (raw === 'true' || raw === '1') return [name, true];
    if (raw === 'false' || raw === '0') return [name, false];
  }
  return [name, raw];
}

/** Turns a CLI-style `NAME=VALUE` string into a typed override, coercing by the entry's default. */
export function parseConfigAssignment(assignment: string): [ConfigName, unknown] {
  const [name, value] = coerceConfigAssignment(assignment);
  if (!isConfigName(name)) {
    throw new ConfigError(name, `unknown config name "${name}"`);
  }
  const parsed = CONFIG_SPEC[name].schema.safeParse(value);
  if (!parsed.success) {
    const raw = assignment.slice(assignment.indexOf('=') + 1).trim();
    throw new ConfigError(name, `invalid value for ${name}: "${raw}"`);
  }
  return [name, parsed.data];
}

/**
 * Default budget for a batch of `essayCount` essays when the client gives none, never above the
 * deployment's MAX_BUDGET_PER_BATCH (`maxBudget`).
 */
export function defaultBudget(
  essayCount: number,
  config: EngineConfig,
  maxBudget: number = config.MAX_BUDGET_PER_BATCH,
): number {
  const budget = Math.max(
    config.DEFAULT_BUDGET_FLOOR,
    Math.ceil((config.DEFAULT_COMPARISONS_PER_ESSAY * essayCount) / 2),
  );
  return Math.min(budget, maxBudget);
}
