import { describe, expect, it } from 'vitest';
import { isTerminal } from '#domain/types.ts';

describe('domain types', () => {
  it('treats FAILED as terminal and RUNNING as active', () => {
    expect(isTerminal('FAILED')).toBe(true);
    expect(isTerminal('RUNNING')).toBe(false);
  });
});
