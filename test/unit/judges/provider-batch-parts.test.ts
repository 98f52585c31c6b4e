/**
 * The pure rules of provider batch parts: a wave is cut at the first limit reached (requests or
 * bytes), the answered set finds the requests a results file left out, and a lost create is
 * adopted, resubmitted or declared ambiguous — never guessed.
 */
import { describe, expect, it } from 'vitest';
import { AnsweredSet, PartBudget, recoveryDecision } from '#shared/judges/batch/parts.ts';
import type { ProviderBatchStatus } from '#shared/judges/batch/port.ts';

function status(id: string, requestCount: number, createdAtMs = 0): ProviderBatchStatus {
  return {
    id,
    phase: 'running',
    providerStatus: 'in_progress',
    createdAtMs,
    requestCount,
    counts: {},
    resultSources: [],
  };
}

describe('PartBudget', () => {
  it('closes a part at the request limit', () => {
    // Prepare
    const budget = new PartBudget({ maxRequests: 2, maxBytes: 1_000 });

    // Act
    const taken = [10, 10, 10].map((bytes) => budget.tryAdd(bytes));

    // Assess
    expect(taken).toEqual([true, true, false]);
    expect(budget.count).toBe(2);
  });

  it('closes a part before the line that would pass the byte limit', () => {
    // Prepare
    const budget = new PartBudget({ maxRequests: 100, maxBytes: 25 });

    // Act
    const taken = [10, 10, 10, 1].map((bytes) => budget.tryAdd(bytes));

    // Assess: once closed, a part stays closed for what follows
    expect(taken).toEqual([true, true, false, true]);
    expect(budget.bytes).toBe(21);
  });

  it('always takes the first line, so no part is ever empty', () => {
    // Act + Assess
    expect(new PartBudget({ maxRequests: 1, maxBytes: 1 }).tryAdd(500)).toBe(true);
  });
});

describe('AnsweredSet', () => {
  it('lists the indices of its range that no line answered', () => {
    // Prepare
    const answered = new AnsweredSet(10, 20);

    // Act
    const first = [10, 12, 19, 12].map((index) => answered.mark(index));

    // Assess
    expect(first).toEqual([true, true, true, false]);
    expect([...answered.missing()]).toEqual([11, 13, 14, 15, 16, 17, 18]);
    expect([9, 20, 1.5].map((index) => answered.has(index))).toEqual([false, false, false]);
  });
});

describe('recoveryDecision', () => {
  it('adopts the exact match and cancels any later duplicate of ours', () => {
    // Act
    const decision = recoveryDecision({
      exact: true,
      candidates: [status('b2', 4, 200), status('b1', 4, 100)],
      claimed: new Set(),
      expectedRequests: 4,
    });

    // Assess
    expect(decision).toMatchObject({ action: 'adopt', batch: { id: 'b1' }, duplicates: ['b2'] });
  });

  it('resubmits when the window holds nothing unclaimed of the right size', () => {
    // Act
    const decision = recoveryDecision({
      exact: false,
      candidates: [status('claimed', 4), status('other-size', 7)],
      claimed: new Set(['claimed']),
      expectedRequests: 4,
    });

    // Assess
    expect(decision).toEqual({ action: 'resubmit' });
  });

  it('adopts the one unclaimed batch of the right size in the window', () => {
    // Act
    const decision = recoveryDecision({
      exact: false,
      candidates: [status('claimed', 4), status('ours', 4), status('other-size', 7)],
      claimed: new Set(['claimed']),
      expectedRequests: 4,
    });

    // Assess
    expect(decision).toMatchObject({ action: 'adopt', batch: { id: 'ours' }, duplicates: [] });
  });

  it('never guesses between two batches it cannot tell apart', () => {
    // Act
    const decision = recoveryDecision({
      exact: false,
      candidates: [status('x', 4), status('y', 4)],
      claimed: new Set(),
      expectedRequests: 4,
    });

    // Assess
    expect(decision).toEqual({ action: 'ambiguous', candidates: ['x', 'y'] });
  });
});
