/**
 * The engine stays inside the AWS limits at its own maxima: every queue message and a full
 * SendMessageBatch under SQS's 256 KiB, the outcome event under EventBridge's 256 KB, the largest
 * essay pages the CLI sends under Lambda's 6 MB request (as the event API Gateway builds), and the
 * largest page of the results under Lambda's 6 MB response. The local cloud enforces the same
 * limits (docs/local-cloud.md, "Limits"); DynamoDB's 400 KB item limit is checked on moto by
 * test/integration/aws-limits.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { DEFAULT_PAGE_LIMITS, pageEssays } from '#cli/upload.ts';
import { DEFAULT_CONFIG } from '#domain/config.ts';
import { LAMBDA_PAYLOAD_LIMITS } from '#localstack/local-cloud/function-host.ts';
import { type EssayInput, essayInputSchema } from '#messages/api.ts';
import { batchFinishedEventSchema } from '#messages/events.ts';
import {
  callbackSchema,
  comparisonRequestSchema,
  continuationTriggerSchema,
} from '#messages/queue.ts';
import { jsonResponse } from '#shared/runtime/http.ts';
import { batchResults } from '#shared/workflow/views.ts';
import { httpEvent } from '#test/helpers/events.ts';
import { batchMeta } from '#test/helpers/store-fakes.ts';

/** SQS's message size (the queues' MaximumMessageSize, infra/constructs/secure-queue.ts). */
const SQS_MAX_BYTES = 262_144;
/** EventBridge PutEvents: at most 256 KB per entry. */
const EVENTBRIDGE_ENTRY_MAX_BYTES = 262_144;
/** SQS SendMessageBatch: at most 10 messages. */
const SQS_BATCH_ENTRIES = 10;

const bytes = (value: unknown) =>
  Buffer.byteLength(typeof value === 'string' ? value : JSON.stringify(value), 'utf8');
const longest = (length: number, unit = '中') => unit.repeat(length);
/** Text that grows most when JSON-escaped twice (in the body, then in the event): quotes and backslashes. */
const worstText = (units: number) => '"\\'.repeat(units / 2).slice(0, units);

function largestEssay(index: number): EssayInput {
  const id = `${index}-`.padEnd(DEFAULT_CONFIG.MAX_ESSAY_ID_CHARS, 'x');
  const metadata: Record<string, string> = {};
  // Keys and values up to the metadata budget (each value at its 256-character cap).
  for (let key = 0; bytes(metadata) < DEFAULT_CONFIG.MAX_ESSAY_METADATA_BYTES - 400; key += 1) {
    metadata[`k${key}`] = longest(60, 'é');
  }
  return { id, text: worstText(DEFAULT_CONFIG.MAX_ESSAY_CHARS), metadata };
}

describe('the engine inside AWS limits, at its own maxima', () => {
  it('every queue message, and a batch of ten, fits SQS', () => {
    // Prepare
    const batchId = longest(64, 'b');
    const messages = [
      comparisonRequestSchema.parse({
        v: 1,
        batch_id: batchId,
        comparison_id: '999999-999999',
        iteration: 999_999,
        a: Number.MAX_SAFE_INTEGER - 1,
        b: Number.MAX_SAFE_INTEGER,
        attempt: 999,
        deadline: '2026-12-31T23:59:59.999Z',
      }),
      callbackSchema.parse({
        v: 1,
        batch_id: batchId,
        comparison_id: '999999-999999',
        outcome: 'verdict',
        winner: 'A',
        confidence: 0.123456789,
        usage: {
          input_tokens: Number.MAX_SAFE_INTEGER,
          output_tokens: Number.MAX_SAFE_INTEGER,
          latency_ms: 1.2345678901234567e300,
          model: longest(128),
          cost_usd: 1.2345678901234567e300,
          calls: 999,
          order_flip: true,
        },
      }),
      callbackSchema.parse({
        v: 1,
        batch_id: batchId,
        comparison_id: '999999-999999',
        outcome: 'failure',
        failure_kind: 'provider_error',
        reason: longest(200),
      }),
      continuationTriggerSchema.parse({
        v: 1,
        batch_id: batchId,
        iteration: Number.MAX_SAFE_INTEGER,
        cause: 'callbacks_drained',
      }),
    ];

    // Act
    const sizes = messages.map(bytes);
    const fullBatch = SQS_BATCH_ENTRIES * Math.max(...sizes);

    // Assess
    for (const size of sizes) expect(size).toBeLessThanOrEqual(SQS_MAX_BYTES);
    expect(fullBatch).toBeLessThanOrEqual(SQS_MAX_BYTES);
  });

  it('the outcome event fits an EventBridge entry', () => {
    // Act
    const event = batchFinishedEventSchema.parse({
      v: 1,
      batch_id: longest(64, 'b'),
      status: 'FAILED',
      failure_reason: 'no_successful_comparisons',
      counters: {
        submitted_comparisons: Number.MAX_SAFE_INTEGER,
        completed_comparisons: Number.MAX_SAFE_INTEGER,
        failed_comparisons: Number.MAX_SAFE_INTEGER,
      },
      completion_denominator: Number.MAX_SAFE_INTEGER,
      finalized_at: '2026-12-31T23:59:59.999Z',
    });

    // Assess
    expect(bytes(event)).toBeLessThanOrEqual(EVENTBRIDGE_ENTRY_MAX_BYTES);
  });

  it('every essay page the CLI sends fits a Lambda request, even of the largest essays', () => {
    // Prepare: a full page's worth of the largest essays the API accepts.
    const essays = Array.from({ length: 40 }, (_, index) => largestEssay(index));
    for (const essay of essays) expect(essayInputSchema.safeParse(essay).success).toBe(true);

    // Act
    const pages = pageEssays(essays, DEFAULT_PAGE_LIMITS);
    const events = pages.map((page, index) =>
      index === 0
        ? httpEvent('POST /batches', { body: { essays: page, budget: 1_000_000 } })
        : httpEvent('POST /batches/{id}/essays', {
            pathParameters: { id: longest(64, 'b') },
            body: { offset: index, essays: page },
          }),
    );

    // Assess
    expect(pages.length).toBeGreaterThan(1);
    expect(pages.flat()).toHaveLength(essays.length);
    for (const event of events) {
      expect(bytes(event)).toBeLessThanOrEqual(LAMBDA_PAYLOAD_LIMITS.syncRequestBytes);
    }
  });

  it('a results page of the largest batch fits a Lambda response, though the whole results would not', () => {
    // Prepare: the most essays a batch may have, each id at its longest, every number at its
    // widest, and a probability for each of the most grades, labelled as long as a label may be.
    const labels = Array.from({ length: DEFAULT_CONFIG.MAX_GRADES }, (_, grade) =>
      `${grade}-`.padEnd(DEFAULT_CONFIG.MAX_GRADE_LABEL_CHARS, 'g'),
    );
    const probabilities = Object.fromEntries(labels.map((label) => [label, 0.012345678901234567]));
    const rows = Array.from({ length: DEFAULT_CONFIG.MAX_ESSAYS_PER_BATCH }, (_, index) => ({
      id: `${index}-`.padEnd(DEFAULT_CONFIG.MAX_ESSAY_ID_CHARS, 'x'),
      score: -1.2345678901234567e-123,
      se: 1.2345678901234567e-123,
      rank: index + 1,
      comparisons: 999_999_999,
      wins: 999_999_999,
      grade: labels[0],
      grade_probabilities: probabilities,
      anchor_grade: labels[1],
    }));
    const meta = batchMeta({
      batch_id: longest(64, 'b'),
      status: 'COMPLETE_STABLE',
      essay_count: rows.length,
    });
    const ceiling = { offset: 0, limit: DEFAULT_CONFIG.RESULTS_PAGE_ROWS };

    // Act
    const page = jsonResponse(200, batchResults(meta, rows, ceiling));
    const whole = jsonResponse(200, batchResults(meta, rows));

    // Assess: the page fits with room (RESULTS_PAGE_ROWS' documented size); the whole would not
    expect(bytes(page)).toBeLessThanOrEqual(LAMBDA_PAYLOAD_LIMITS.syncResponseBytes / 2);
    expect(bytes(whole)).toBeGreaterThan(LAMBDA_PAYLOAD_LIMITS.syncResponseBytes);
  });
});
