/**
 * HTTP request bodies: create a batch, add a page of essays, start a batch.
 *
 * Small batches send their essays inline and start at once. Large batches (10,000 essays of
 * ordinary length are ~30 MB, above API Gateway's 10 MB and Lambda's 6 MB limits) are created with
 * `essay_count` and no essays (status PENDING_ESSAYS), filled with `POST /batches/{id}/essays`
 * pages, then started with `POST /batches/{id}/start`.
 *
 * `v` may be omitted on HTTP bodies (it defaults to 1); any other value is rejected.
 */
import * as z from 'zod';
import {
  DEFAULT_CONFIG,
  endpointNameSchema,
  providerBaseUrlSchema,
  resolveBatchConfig,
} from '#domain/config.ts';
import { batchStatusSchema, essayIdSchema, MESSAGE_VERSION } from '#messages/common.ts';

const httpVersionSchema = z
  .literal(MESSAGE_VERSION, {
    error: `unsupported message version (expected v: ${MESSAGE_VERSION})`,
  })
  .default(MESSAGE_VERSION);

/**
 * Optional per-essay metadata; `quality` is the latent quality the mock judge decides from. Bounded
 * in total (MAX_ESSAY_METADATA_BYTES) so an essay item stays under DynamoDB's 400 KB.
 */
export const essayMetadataSchema = z
  .object({ quality: z.number().finite().optional() })
  .catchall(z.union([z.string().max(256), z.number().finite(), z.boolean()]))
  .refine(
    (metadata) =>
      new TextEncoder().encode(JSON.stringify(metadata)).length <=
      DEFAULT_CONFIG.MAX_ESSAY_METADATA_BYTES,
    `metadata must be at most ${DEFAULT_CONFIG.MAX_ESSAY_METADATA_BYTES} bytes as JSON`,
  );

/** A grade label of a batch's grade scale (e.g. "A", "7", "Merit"). */
export const gradeLabelSchema = z
  .string()
  .trim()
  .min(1, 'a grade must not be empty')
  .max(
    DEFAULT_CONFIG.MAX_GRADE_LABEL_CHARS,
    `a grade has at most ${DEFAULT_CONFIG.MAX_GRADE_LABEL_CHARS} characters`,
  );

/**
 * The batch's ordered grade scale, lowest first (docs/grades.md): 2–MAX_GRADES distinct labels of
 * at most MAX_GRADE_LABEL_CHARS (deployment limits in the config module).
 */
export const gradeScaleSchema = z
  .array(gradeLabelSchema)
  .min(2, 'a grade scale needs at least 2 grades')
  .max(DEFAULT_CONFIG.MAX_GRADES, `a grade scale has at most ${DEFAULT_CONFIG.MAX_GRADES} grades`)
  .superRefine((scale, ctx) => {
    const seen = new Set<string>();
    scale.forEach((grade, index) => {
      if (seen.has(grade)) {
        ctx.addIssue({ code: 'custom', path: [index], message: `grade "${grade}" appears twice` });
      }
      seen.add(grade);
    });
  });

export const essayInputSchema = z.object({
  id: essayIdSchema,
  text: z
    .string()
    .refine((text) => text.trim().length > 0, 'essay text must not be empty')
    .refine(
      (text) => text.length <= DEFAULT_CONFIG.MAX_ESSAY_CHARS,
      `essay text must be at most ${DEFAULT_CONFIG.MAX_ESSAY_CHARS} characters`,
    ),
  metadata: essayMetadataSchema.optional(),
  /**
   * The grade this essay is known to deserve (an anchor), one of the batch's `grade_scale`. Never
   * shown to the judge: it only places the grade boundaries after scoring.
   */
  anchor_grade: gradeLabelSchema.optional(),
});
export type EssayInput = z.infer<typeof essayInputSchema>;

/**
 * Anchor grades against the scale: every `anchor_grade` must be on it (issue at
 * `essays[i].anchor_grade`), and anchors must not be given without a scale (`grade_scale`).
 * `offset` shifts the reported index for pages. With `complete`, the anchors must also cover two
 * distinct grades (`essays`).
 */
export function checkAnchorGrades(
  essays: ReadonlyArray<{ anchor_grade?: string | undefined }>,
  scale: readonly string[] | undefined,
  ctx: { addIssue: (issue: { code: 'custom'; path: PropertyKey[]; message: string }) => void },
  complete: boolean,
): void {
  const known = new Set(scale ?? []);
  const distinct = new Set<string>();
  essays.forEach((essay, index) => {
    const grade = essay.anchor_grade;
    if (grade === undefined) return;
    if (scale === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['grade_scale'],
        message: `essays[${index}] has an anchor_grade, so the batch must declare grade_scale`,
      });
    } else if (!known.has(grade)) {
      ctx.addIssue({
        code: 'custom',
        path: ['essays', index, 'anchor_grade'],
        message: `anchor_grade "${grade}" is not on the grade scale (${scale.join(', ')})`,
      });
    }
    distinct.add(grade);
  });
  if (complete && scale !== undefined && distinct.size < 2) {
    ctx.addIssue({
      code: 'custom',
      path: ['essays'],
      message: `anchors (essays with anchor_grade) must cover at least two distinct grades of grade_scale; found ${distinct.size}`,
    });
  }
}

/** A list of essays with unique ids; the duplicate's path is reported (`essays[3].id`). */
function essayListSchema(minimum: number) {
  return z
    .array(essayInputSchema)
    .min(
      minimum,
      minimum === 1 ? 'at least 1 essay is required' : `at least ${minimum} essays are required`,
    )
    .max(
      DEFAULT_CONFIG.MAX_ESSAYS_PER_PAGE,
      `at most ${DEFAULT_CONFIG.MAX_ESSAYS_PER_PAGE} essays per request: send larger batches in pages`,
    )
    .superRefine((essays, ctx) => {
      const seen = new Set<string>();
      essays.forEach((essay, index) => {
        if (seen.has(essay.id)) {
          ctx.addIssue({
            code: 'custom',
            path: [index, 'id'],
            message: `duplicate essay id "${essay.id}"`,
          });
        }
        seen.add(essay.id);
      });
    });
}

/** Per-batch judge choice: the mock, or a real LLM provider (`openai`, `anthropic`, `openai-compatible`). */
export const mockJudgeSchema = z.object({
  provider: z.literal('mock'),
  profile: z.string().min(1).max(64),
  failure_rate: z.number().min(0).max(1).optional(),
  /** Position bias in logits added in favour of the first-shown essay (same scale as the mock judge). */
  position_bias: z.number().min(-10).max(10).optional(),
  latency_ms: z.number().int().nonnegative().max(60_000).optional(),
  /** Extra copies of every callback the judge sends (proves duplicate handling): 1 = each twice. */
  duplicate_callbacks: z.number().int().min(0).max(10).optional(),
  /** Probability that a callback is never sent (proves the sweeper's timeouts). */
  drop_rate: z.number().min(0).max(1).optional(),
  seed: z.number().int().optional(),
});
/** Settings every real LLM judge shares; lengths are the deployment limits in config. */
const llmJudgeFields = {
  model: z.string().trim().min(1, 'model is required').max(128),
  /** OpenAI accepts 0..2; Anthropic narrows it to 0..1 below. */
  temperature: z.number().min(0).max(2).optional(),
  max_tokens: z
    .number()
    .int()
    .positive()
    .max(
      DEFAULT_CONFIG.JUDGE_MAX_OUTPUT_TOKENS,
      `max_tokens must be at most ${DEFAULT_CONFIG.JUDGE_MAX_OUTPUT_TOKENS}`,
    )
    .optional(),
  assignment: z
    .string()
    .max(
      DEFAULT_CONFIG.JUDGE_MAX_ASSIGNMENT_CHARS,
      `assignment must be at most ${DEFAULT_CONFIG.JUDGE_MAX_ASSIGNMENT_CHARS} characters`,
    )
    .optional(),
  rubric: z
    .string()
    .max(
      DEFAULT_CONFIG.JUDGE_MAX_RUBRIC_CHARS,
      `rubric must be at most ${DEFAULT_CONFIG.JUDGE_MAX_RUBRIC_CHARS} characters`,
    )
    .optional(),
  /** Judge every pair in both orders (two calls) and report order flips. */
  judge_both_orders: z.boolean().optional(),
};
/**
 * How the judge is asked: `sync` (default) calls the provider once per comparison as requests
 * arrive; `provider_batch` submits each wave through the provider's batch API (OpenAI Batch API,
 * Anthropic Message Batches, or a named OpenAI-compatible endpoint the deployment declares to
 * speak the Batch API) at its batch price, results within the 24-hour window.
 */
export const judgeModeSchema = z.enum(['sync', 'provider_batch']);
export type JudgeMode = z.infer<typeof judgeModeSchema>;

/** Judging both orders pairs two answers per comparison; provider batches judge one order. */
function oneOrderInProviderBatches(
  choice: { mode?: JudgeMode | undefined; judge_both_orders?: boolean | undefined },
  ctx: z.RefinementCtx,
): void {
  if (choice.mode === 'provider_batch' && choice.judge_both_orders === true) {
    ctx.addIssue({
      code: 'custom',
      path: ['judge_both_orders'],
      message: 'judge_both_orders is not available with mode provider_batch',
    });
  }
}

export const openAiJudgeSchema = z
  .object({ provider: z.literal('openai'), ...llmJudgeFields, mode: judgeModeSchema.optional() })
  .strict()
  .superRefine(oneOrderInProviderBatches);
export const anthropicJudgeSchema = z
  .object({
    provider: z.literal('anthropic'),
    ...llmJudgeFields,
    temperature: z.number().min(0).max(1, 'Anthropic accepts temperature 0..1').optional(),
    mode: judgeModeSchema.optional(),
  })
  .strict()
  .superRefine(oneOrderInProviderBatches);
export const openAiCompatibleJudgeSchema = z
  .object({
    provider: z.literal('openai-compatible'),
    ...llmJudgeFields,
    /** A server the deployment names (JUDGE_ENDPOINTS, docs/deploy.md): the way to pick one. */
    endpoint: endpointNameSchema.optional(),
    /**
     * Only on the local cloud, and only to a loopback address (docs/security.md): the server's
     * base URL up to and including the API version path, e.g. `http://127.0.0.1:8000/v1`.
     */
    base_url: providerBaseUrlSchema.optional(),
    /** How the server is asked for JSON; `none` parses the answer from text. */
    response_format: z.enum(['json_schema', 'json_object', 'none']).optional(),
    /**
     * `provider_batch` only on a named endpoint the deployment declares to speak the OpenAI Batch
     * API (JUDGE_BATCH_ENDPOINTS, checked at creation); never with a raw base_url.
     */
    mode: judgeModeSchema.optional(),
  })
  .strict()
  .superRefine(oneOrderInProviderBatches)
  .superRefine((choice, ctx) => {
    if (choice.mode === 'provider_batch' && choice.base_url !== undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['mode'],
        message:
          'provider_batch needs a named endpoint that speaks the OpenAI Batch API (judge.endpoint); a base_url has none',
      });
    }
    if (choice.endpoint !== undefined && choice.base_url !== undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['base_url'],
        message: 'give either endpoint or base_url, not both',
      });
    } else if (choice.endpoint === undefined && choice.base_url === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['endpoint'],
        message: "name one of the deployment's endpoints (or, on the local cloud, give base_url)",
      });
    }
  });
export const judgeChoiceSchema = z.discriminatedUnion('provider', [
  mockJudgeSchema,
  openAiJudgeSchema,
  anthropicJudgeSchema,
  openAiCompatibleJudgeSchema,
]);
export type JudgeChoice = z.infer<typeof judgeChoiceSchema>;
export type JudgeProviderName = JudgeChoice['provider'];
/** Every judge provider the contract knows, in the order of the union. */
export const JUDGE_PROVIDERS: readonly JudgeProviderName[] = judgeChoiceSchema.options.map(
  (option) => option.shape.provider.value,
);

/**
 * Config overrides by name: only per-batch settings, within their declared ranges
 * (`resolveBatchConfig`; the error names the entry, e.g. `config.SPLIT_HALF_SPLITS`).
 */
export const configOverridesSchema = z
  .record(z.string(), z.unknown())
  .superRefine((overrides, ctx) => {
    try {
      resolveBatchConfig(overrides);
    } catch (error) {
      const field = (error as { field?: unknown }).field;
      ctx.addIssue({
        code: 'custom',
        path: typeof field === 'string' ? [field] : [],
        message: error instanceof Error ? error.message : 'invalid config',
      });
    }
  });

export const createBatchRequestSchema = z
  .object({
    v: httpVersionSchema,
    essays: essayListSchema(2).optional(),
    /** Required when essays are sent in pages; must equal essays.length when both are given. */
    essay_count: z
      .number()
      .int()
      .min(2, 'a batch needs at least 2 essays')
      .max(
        DEFAULT_CONFIG.MAX_ESSAYS_PER_BATCH,
        `a batch has at most ${DEFAULT_CONFIG.MAX_ESSAYS_PER_BATCH} essays`,
      )
      .optional(),
    budget: z
      .number()
      .int('budget must be a positive integer')
      .positive('budget must be a positive integer')
      .optional(),
    judge: judgeChoiceSchema.optional(),
    config: configOverridesSchema.optional(),
    /** Ordered grades, lowest first, for projecting grades from anchor essays (docs/grades.md). */
    grade_scale: gradeScaleSchema.optional(),
  })
  .strict()
  .superRefine((body, ctx) => {
    // Inline essays are the whole batch: check the anchors now. Paged batches check each page
    // against the stored scale and the two-grade rule at start.
    if (body.essays !== undefined) {
      checkAnchorGrades(body.essays, body.grade_scale, ctx, true);
    }
    if (body.essays === undefined && body.essay_count === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['essays'],
        message: 'send essays inline, or essay_count and then pages of essays',
      });
    }
    if (
      body.essays !== undefined &&
      body.essay_count !== undefined &&
      body.essays.length !== body.essay_count
    ) {
      ctx.addIssue({
        code: 'custom',
        path: ['essay_count'],
        message: `essay_count (${body.essay_count}) differs from the number of essays (${body.essays.length})`,
      });
    }
  });
export type CreateBatchRequest = z.infer<typeof createBatchRequestSchema>;

/**
 * One page of essays for a PENDING_ESSAYS batch. `offset` is the index of the page's first essay:
 * pages must arrive in order (offset = essays stored so far), and resending a stored page is a
 * harmless no-op, so a client may retry a page whose response it lost.
 */
export const essayPageRequestSchema = z
  .object({
    v: httpVersionSchema,
    offset: z.number().int().nonnegative(),
    essays: essayListSchema(1),
  })
  .strict();
export type EssayPageRequest = z.infer<typeof essayPageRequestSchema>;

/** `POST /batches/{id}/start` and `/cancel` carry no fields beyond the version. */
export const emptyRequestSchema = z.object({ v: httpVersionSchema }).strict();

/** A page's `limit` query parameter: a whole number from 1 to `max`, `max` when absent. */
function pageLimitSchema(max: number) {
  return z.coerce
    .number({ error: 'limit must be a whole number' })
    .int('limit must be a whole number')
    .min(1, 'limit must be at least 1')
    .max(max, `limit must be at most ${max}`)
    .default(max);
}

/**
 * The query of `GET /batches/{id}/results`: at most `limit` rows (default and ceiling
 * RESULTS_PAGE_ROWS, which keeps a page of worst-case rows inside Lambda's 6 MB response) from
 * where `cursor` (the previous page's `next_cursor`) points.
 */
export const resultsPageQuerySchema = z
  .object({
    limit: pageLimitSchema(DEFAULT_CONFIG.RESULTS_PAGE_ROWS),
    cursor: z.string().max(64, 'cursor is not one this API gave').optional(),
  })
  .strict();
export type ResultsPageQuery = z.infer<typeof resultsPageQuerySchema>;

const RESULTS_CURSOR_PREFIX = 'r1:';

/** The opaque `next_cursor` of a results page: where the next page starts. */
export function encodeResultsCursor(offset: number): string {
  return Buffer.from(`${RESULTS_CURSOR_PREFIX}${offset}`, 'utf8').toString('base64url');
}

/** The row offset a cursor points at, or undefined when it is not a cursor this API gave. */
export function decodeResultsCursor(cursor: string): number | undefined {
  const text = Buffer.from(cursor, 'base64url').toString('utf8');
  if (!text.startsWith(RESULTS_CURSOR_PREFIX)) return undefined;
  const digits = text.slice(RESULTS_CURSOR_PREFIX.length);
  if (!/^(0|[1-9]\d{0,8})$/.test(digits)) return undefined;
  return Number(digits);
}

/**
 * The query of `GET /batches`: the caller's batches newest first, at most `limit` of them
 * (default and ceiling BATCH_LIST_PAGE_SIZE), only those in `status` when given, from where
 * `cursor` (the previous page's `next_cursor`) points.
 */
export const batchListQuerySchema = z
  .object({
    limit: pageLimitSchema(DEFAULT_CONFIG.BATCH_LIST_PAGE_SIZE),
    status: batchStatusSchema.optional(),
    cursor: z.string().max(160, 'cursor is not one this API gave').optional(),
  })
  .strict();
export type BatchListQuery = z.infer<typeof batchListQuerySchema>;

const LIST_CURSOR_PREFIX = 'l1:';
/** A position in the owner index: the creation instant, `#`, the batch id (shared/store/keys.ts). */
const LIST_POSITION = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?Z#[A-Za-z0-9_-]{1,64}$/;

/** The opaque `next_cursor` of a list page: the position of the page's last batch. */
export function encodeListCursor(position: string): string {
  return Buffer.from(`${LIST_CURSOR_PREFIX}${position}`, 'utf8').toString('base64url');
}

/** The position a list cursor points at, or undefined when it is not a cursor this API gave. */
export function decodeListCursor(cursor: string): string | undefined {
  const text = Buffer.from(cursor, 'base64url').toString('utf8');
  if (!text.startsWith(LIST_CURSOR_PREFIX)) return undefined;
  const position = text.slice(LIST_CURSOR_PREFIX.length);
  return LIST_POSITION.test(position) ? position : undefined;
}
