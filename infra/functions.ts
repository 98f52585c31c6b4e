/**
 * The deployment contract of every function: trigger, size, environment and permissions. The stack
 * wires exactly what is declared here, so this table is the least-privilege review surface: its
 * `table`, `queryIndexes`, `sendsTo`, `putsEvents`, `readsProviderSecrets`, `readsEndpointSecrets`
 * and `readsBatchEndpointSecrets` are everything the
 * function's code may call (infra/grants.ts turns them into IAM statements).
 * Sizes: HTTP functions answer inside API Gateway's 30 s integration limit; queue consumers are
 * sized for their heaviest step (the continuation fits Bradley–Terry and plans a wave).
 */
import { ACTIVE_INDEX, CREATED_INDEX, type IndexName, OWNER_INDEX } from '#store/table-schema.ts';

/**
 * IAM actions on the table. IAM authorizes a transaction through its parts (PutItem, UpdateItem,
 * ConditionCheckItem, DeleteItem), so TransactWriteItems is not one of them.
 */
export type TableAction =
  | 'GetItem'
  | 'BatchGetItem'
  | 'Query'
  | 'PutItem'
  | 'UpdateItem'
  | 'DeleteItem'
  | 'BatchWriteItem'
  | 'ConditionCheckItem';

export type QueueName = 'comparison' | 'callback' | 'continuation';
export type EnvName =
  | 'TABLE_NAME'
  | 'COMPARISON_QUEUE_URL'
  | 'CALLBACK_QUEUE_URL'
  | 'CONTINUATION_QUEUE_URL'
  | 'EVENT_BUS_NAME'
  | 'ALLOWED_PROVIDERS'
  | 'PROVIDER_RATE_LIMITS'
  | 'MAX_ESSAYS_PER_BATCH'
  | 'MAX_ESSAY_CHARS'
  | 'MAX_BUDGET_PER_BATCH'
  | 'MAX_BATCHES_IN_FLIGHT_PER_PRINCIPAL'
  | 'MAX_ESSAYS_IN_FLIGHT'
  | 'JUDGE_ENDPOINTS'
  | 'ADMIN_PRINCIPALS'
  | 'JUDGE_BATCH_ENDPOINTS';

export type Trigger =
  | { readonly kind: 'http'; readonly method: 'GET' | 'POST'; readonly path: string }
  | {
      readonly kind: 'queue';
      readonly queue: QueueName;
      readonly batchSize: number;
      /** Omitted for the FIFO queue: Lambda does not batch FIFO records by time. */
      readonly maxBatchingWindowSeconds?: number;
      /** Only the judge is throttled (provider rate limits); set from the deployment settings. */
      readonly limitConcurrency?: boolean;
    }
  | { readonly kind: 'schedule'; readonly rateMinutes: number };

export interface FunctionSpec {
  readonly name: string;
  readonly description: string;
  readonly trigger: Trigger;
  readonly memorySize: number;
  readonly timeoutSeconds: number;
  readonly env: readonly EnvName[];
  readonly table: readonly TableAction[];
  /** Global secondary indexes the function queries (see TABLE_INDEXES in table-schema.ts). */
  readonly queryIndexes?: readonly IndexName[];
  readonly sendsTo?: readonly QueueName[];
  readonly putsEvents?: boolean;
  readonly readsProviderSecrets?: boolean;
  /** The API key secrets of the deployment's named endpoints (`judgeEndpointSecrets`). */
  readonly readsEndpointSecrets?: boolean;
  /** Only the secrets of the endpoints declared batch-capable (`judgeBatchEndpoints`). */
  readonly readsBatchEndpointSecrets?: boolean;
}

export const FUNCTIONS: readonly FunctionSpec[] = [
  {
    name: 'create-batch',
    description: 'POST /batches: validates and stores a new batch (and its first essays)',
    trigger: { kind: 'http', method: 'POST', path: '/batches' },
    memorySize: 512,
    timeoutSeconds: 29,
    // JUDGE_ENDPOINTS: a batch may name only an endpoint the deployment has (and take provider
    // batches only on one of JUDGE_BATCH_ENDPOINTS).
    env: [
      'TABLE_NAME',
      'ALLOWED_PROVIDERS',
      'JUDGE_ENDPOINTS',
      'JUDGE_BATCH_ENDPOINTS',
      'CONTINUATION_QUEUE_URL',
      // The deployment maxima a create is checked against (docs/deploy.md).
      'MAX_ESSAYS_PER_BATCH',
      'MAX_ESSAY_CHARS',
      'MAX_BUDGET_PER_BATCH',
      // The in-flight caps a batch created with its essays is counted against (docs/deploy.md).
      'MAX_BATCHES_IN_FLIGHT_PER_PRINCIPAL',
      'MAX_ESSAYS_IN_FLIGHT',
    ],
    // GetItem: a create retried with the same Idempotency-Key reads the batch its first try made,
    // and the in-flight counters are read; UpdateItem: the counters rise in the create's
    // transaction; BatchWriteItem: essay items (deleted again when the caps refuse the create).
    table: ['GetItem', 'PutItem', 'UpdateItem', 'BatchWriteItem'],
    // A batch created with all its essays starts at once.
    sendsTo: ['continuation'],
  },
  {
    name: 'add-essays',
    description: 'POST /batches/{id}/essays: stores one page of essays of a batch not yet started',
    trigger: { kind: 'http', method: 'POST', path: '/batches/{id}/essays' },
    memorySize: 512,
    timeoutSeconds: 29,
    // Each page's essay texts are checked against the deployment's MAX_ESSAY_CHARS.
    env: ['TABLE_NAME', 'MAX_ESSAY_CHARS', 'ADMIN_PRINCIPALS'],
    table: ['GetItem', 'Query', 'UpdateItem', 'BatchWriteItem'],
  },
  {
    name: 'start-batch',
    description: 'POST /batches/{id}/start: marks a complete batch running and triggers planning',
    trigger: { kind: 'http', method: 'POST', path: '/batches/{id}/start' },
    memorySize: 256,
    timeoutSeconds: 10,
    // The in-flight caps: a paged batch is counted when it starts (docs/deploy.md).
    env: [
      'TABLE_NAME',
      'CONTINUATION_QUEUE_URL',
      'MAX_BATCHES_IN_FLIGHT_PER_PRINCIPAL',
      'MAX_ESSAYS_IN_FLIGHT',
      'ADMIN_PRINCIPALS',
    ],
    // Reads the settings and, for a batch with a grade scale, the anchors in the id chunks; the
    // start and the in-flight counters are updated in one transaction.
    table: ['GetItem', 'Query', 'UpdateItem'],
    sendsTo: ['continuation'],
  },
  {
    name: 'list-batches',
    description: "GET /batches: the caller's batches, newest first, in pages",
    trigger: { kind: 'http', method: 'GET', path: '/batches' },
    memorySize: 256,
    timeoutSeconds: 10,
    env: ['TABLE_NAME', 'ADMIN_PRINCIPALS'],
    // The owner index names a page of the caller's batches (an admin's: the all-batches index);
    // their META items are one BatchGetItem. No Query on the table itself: the function reads no
    // batch's other items.
    table: ['BatchGetItem'],
    queryIndexes: [OWNER_INDEX, CREATED_INDEX],
  },
  {
    name: 'get-batch',
    description: 'GET /batches/{id}: status and counters',
    trigger: { kind: 'http', method: 'GET', path: '/batches/{id}' },
    memorySize: 256,
    timeoutSeconds: 10,
    env: ['TABLE_NAME', 'ADMIN_PRINCIPALS'],
    // One query reads META and, once finalized, the processing metadata beside it; the settings
    // (the grade scale) are one GetItem, cached per function.
    table: ['GetItem', 'Query'],
  },
  {
    name: 'get-results',
    description: 'GET /batches/{id}/results: scores, ranks and diagnostics',
    trigger: { kind: 'http', method: 'GET', path: '/batches/{id}/results' },
    memorySize: 512,
    timeoutSeconds: 29,
    env: ['TABLE_NAME', 'ADMIN_PRINCIPALS'],
    table: ['GetItem', 'Query'],
  },
  {
    name: 'get-waves',
    description: 'GET /batches/{id}/waves: decisions wave by wave and pending callbacks over time',
    trigger: { kind: 'http', method: 'GET', path: '/batches/{id}/waves' },
    // Reads every comparison item of the batch (about 150,000 at 10,000 essays): room to page.
    memorySize: 1024,
    timeoutSeconds: 29,
    env: ['TABLE_NAME', 'ADMIN_PRINCIPALS'],
    table: ['GetItem', 'Query'],
  },
  {
    name: 'cancel-batch',
    description: 'POST /batches/{id}/cancel: stops planning; late callbacks are ignored',
    trigger: { kind: 'http', method: 'POST', path: '/batches/{id}/cancel' },
    memorySize: 256,
    timeoutSeconds: 10,
    env: ['TABLE_NAME', 'EVENT_BUS_NAME', 'ADMIN_PRINCIPALS'],
    table: ['GetItem', 'UpdateItem'],
    // A cancelled batch gets its one outcome event here (the continuation no longer runs).
    putsEvents: true,
  },
  {
    name: 'admin-mock-mode',
    description: 'GET /admin/mock-mode: the judge providers and mock profiles available',
    trigger: { kind: 'http', method: 'GET', path: '/admin/mock-mode' },
    memorySize: 256,
    timeoutSeconds: 10,
    env: ['ALLOWED_PROVIDERS'],
    table: [],
  },
  {
    name: 'judge',
    description: 'Comparison requests: asks the provider and puts exactly one callback per request',
    trigger: {
      kind: 'queue',
      queue: 'comparison',
      batchSize: 5,
      maxBatchingWindowSeconds: 0,
      limitConcurrency: true,
    },
    memorySize: 512,
    timeoutSeconds: 120,
    env: [
      'TABLE_NAME',
      'CALLBACK_QUEUE_URL',
      'COMPARISON_QUEUE_URL',
      'ALLOWED_PROVIDERS',
      'PROVIDER_RATE_LIMITS',
      'JUDGE_ENDPOINTS',
    ],
    // Reads what a comparison needs in one BatchGetItem (META, the comparison, both essays, the
    // settings) and never touches the batch counters; GetItem + PutItem only for the shared
    // provider rate limiter's item (RATE#<provider>), and only when the provider has a limit.
    table: ['BatchGetItem', 'GetItem', 'PutItem'],
    // The callback; and a request the rate limiter cannot serve soon, re-sent with a delay.
    sendsTo: ['callback', 'comparison'],
    readsProviderSecrets: true,
    // Every named endpoint's key; provider-batches reads only the batch-capable endpoints' keys.
    readsEndpointSecrets: true,
  },
  {
    name: 'callback',
    description: 'Callbacks: records each result once and triggers the gate',
    trigger: { kind: 'queue', queue: 'callback', batchSize: 10, maxBatchingWindowSeconds: 1 },
    memorySize: 512,
    timeoutSeconds: 30,
    env: ['TABLE_NAME', 'CONTINUATION_QUEUE_URL'],
    // Records the callbacks of an invocation in one transaction of updates per batch (comparisons
    // + counters).
    table: ['GetItem', 'UpdateItem'],
    sendsTo: ['continuation'],
  },
  {
    name: 'continuation',
    description: 'Continuation (FIFO per batch): decides, plans the next wave or finalizes',
    trigger: { kind: 'queue', queue: 'continuation', batchSize: 10 },
    // 1769 MB is one full vCPU: the Bradley–Terry fit of a large batch is CPU-bound.
    memorySize: 1769,
    timeoutSeconds: 120,
    env: ['TABLE_NAME', 'COMPARISON_QUEUE_URL', 'EVENT_BUS_NAME'],
    table: ['GetItem', 'Query', 'PutItem', 'UpdateItem', 'BatchWriteItem'],
    sendsTo: ['comparison'],
    putsEvents: true,
  },
  {
    name: 'sweeper',
    // The PendingCallbacks gauge goes out in embedded metric format (log lines): no CloudWatch API.
    description: 'Every minute: times out overdue comparisons and publishes the pending gauge',
    trigger: { kind: 'schedule', rateMinutes: 1 },
    memorySize: 512,
    timeoutSeconds: 55,
    env: ['TABLE_NAME', 'CONTINUATION_QUEUE_URL'],
    // Reads the META of every running batch together (BatchGetItem), queries the current wave of
    // an overdue one (Query), and times its comparisons out through the callback path (updates of
    // comparisons + counters in one transaction; a late one alone).
    table: ['GetItem', 'BatchGetItem', 'Query', 'UpdateItem'],
    queryIndexes: [ACTIVE_INDEX],
    sendsTo: ['continuation'],
  },
  {
    name: 'provider-batches',
    description:
      'Every minute: submits committed waves as provider batches, polls them, sends one callback per comparison from their results, cancels those no longer wanted',
    trigger: { kind: 'schedule', rateMinutes: 1 },
    // Streams request lines and result files one line at a time: memory stays small however large
    // the provider batch (test/integration/provider-batches.test.ts serves a larger results file).
    memorySize: 256,
    // A 200 MB upload or a results file of 100,000 lines may need minutes; a run starts no new part
    // after PROVIDER_BATCH_RUN_SECONDS, and its claims last PROVIDER_BATCH_LEASE_SECONDS (longer).
    timeoutSeconds: 900,
    // The named endpoints, and which of them speak the OpenAI Batch API.
    env: ['TABLE_NAME', 'CALLBACK_QUEUE_URL', 'JUDGE_ENDPOINTS', 'JUDGE_BATCH_ENDPOINTS'],
    // Parts: Get/Update, and one transaction (Update + Put of the id's claim and the next part);
    // comparisons of a wave: Query; essays and claims: BatchGetItem.
    table: ['GetItem', 'Query', 'UpdateItem', 'PutItem', 'BatchGetItem'],
    // Open parts are listed from their own partition of the active-batches index.
    queryIndexes: [ACTIVE_INDEX],
    sendsTo: ['callback'],
    readsProviderSecrets: true,
    readsBatchEndpointSecrets: true,
  },
];
