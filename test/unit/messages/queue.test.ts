import { describe, expect, it } from 'vitest';
import { comparisonId, parseComparisonId } from '#messages/common.ts';
import { batchEventDetailType, batchFinishedEventSchema } from '#messages/events.ts';
import {
  callbackSchema,
  comparisonRequestSchema,
  continuationDedupId,
  continuationTriggerSchema,
} from '#messages/queue.ts';
import { toValidationError } from '#messages/validation.ts';

const request = {
  v: 1,
  batch_id: 'b-1',
  comparison_id: '000001-000003',
  iteration: 1,
  a: 3,
  b: 4,
  attempt: 1,
  deadline: '2026-11-27T08:15:00.000Z',
};

function fieldOf(result: { success: boolean; error?: unknown }): string | undefined {
  if (result.success) return undefined;
  return toValidationError(result.error as never).field;
}

describe('comparison request', () => {
  it('accepts a request and carries no essay text', () => {
    // Prepare
    const body = { ...request };

    // Act
    const parsed = comparisonRequestSchema.parse(body);

    // Assess
    expect(parsed).toEqual(request);
    expect(Object.keys(parsed)).not.toContain('text');
  });

  it.each([
    ['an unknown version', { ...request, v: 2 }, 'v'],
    ['a missing version', { ...request, v: undefined }, 'v'],
    ['a self-comparison', { ...request, b: 3 }, 'b'],
    ['a malformed comparison id', { ...request, comparison_id: 'abc' }, 'comparison_id'],
    ['a bad deadline', { ...request, deadline: 'tomorrow' }, 'deadline'],
  ])('rejects %s', (_name, body, field) => {
    // Prepare (table row)

    // Act
    const result = comparisonRequestSchema.safeParse(body);

    // Assess
    expect(fieldOf(result)).toBe(field);
  });
});

describe('callback', () => {
  it('accepts a verdict and a failure', () => {
    // Prepare
    const verdict = {
      v: 1,
      batch_id: 'b-1',
      comparison_id: '000001-000003',
      outcome: 'verdict',
      winner: 'B',
      confidence: 0.7,
    };
    const failure = {
      v: 1,
      batch_id: 'b-1',
      comparison_id: '000001-000003',
      outcome: 'failure',
      failure_kind: 'timeout',
      reason: 'deadline passed',
    };

    // Act
    const parsed = [callbackSchema.parse(verdict), callbackSchema.parse(failure)];

    // Assess
    expect(parsed.map((callback) => callback.outcome)).toEqual(['verdict', 'failure']);
  });

  it.each([
    ['a verdict without a winner', { outcome: 'verdict' }, 'winner'],
    ['a winner that is not A or B', { outcome: 'verdict', winner: 'C' }, 'winner'],
    ['an unknown failure kind', { outcome: 'failure', failure_kind: 'bored' }, 'failure_kind'],
    ['an unknown outcome', { outcome: 'maybe' }, 'outcome'],
    [
      'an overlong reason',
      { outcome: 'failure', failure_kind: 'timeout', reason: 'x'.repeat(201) },
      'reason',
    ],
  ])('rejects %s', (_name, extra, field) => {
    // Prepare
    const body = { v: 1, batch_id: 'b-1', comparison_id: '000001-000003', ...extra };

    // Act
    const result = callbackSchema.safeParse(body);

    // Assess
    expect(fieldOf(result)).toBe(field);
  });
});

describe('continuation trigger', () => {
  it('accepts a trigger and derives the FIFO dedup id from batch and iteration', () => {
    // Prepare
    const body = { v: 1, batch_id: 'b-1', iteration: 3, cause: 'callbacks_drained' };

    // Act
    const parsed = continuationTriggerSchema.parse(body);

    // Assess
    expect(continuationDedupId(parsed.batch_id, parsed.iteration)).toBe('b-1:3');
  });

  it('rejects an unknown cause', () => {
    // Prepare
    const body = { v: 1, batch_id: 'b-1', iteration: 3, cause: 'whim' };

    // Act
    const result = continuationTriggerSchema.safeParse(body);

    // Assess
    expect(fieldOf(result)).toBe('cause');
  });
});

describe('completion event', () => {
  it('validates an event and picks the detail type from the status', () => {
    // Prepare
    const event = {
      v: 1,
      batch_id: 'b-1',
      status: 'FAILED',
      failure_reason: 'low_success_rate',
      counters: { submitted_comparisons: 10, completed_comparisons: 4, failed_comparisons: 6 },
      completion_denominator: 10,
      finalized_at: '2026-11-27T08:15:00.000Z',
    };

    // Act
    const parsed = batchFinishedEventSchema.parse(event);

    // Assess
    expect(batchEventDetailType(parsed.status)).toBe('BatchFailed');
    expect(batchEventDetailType('COMPLETE_STABLE')).toBe('BatchCompleted');
    expect(batchEventDetailType('CANCELLED')).toBe('BatchCancelled');
  });
});

describe('comparison ids', () => {
  it('round-trip and sort in planning order', () => {
    // Prepare
    const ids = [comparisonId(2, 10), comparisonId(10, 1), comparisonId(2, 9)];

    // Act
    const sorted = [...ids].sort();

    // Assess
    expect(sorted).toEqual(['000002-000009', '000002-000010', '000010-000001']);
    expect(parseComparisonId('000010-000001')).toEqual({ iteration: 10, index: 1 });
    expect(parseComparisonId('10-1')).toBeUndefined();
  });
});
