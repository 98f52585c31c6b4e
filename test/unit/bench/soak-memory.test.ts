import { describe, expect, it } from 'vitest';
import { peakResidentMb } from '#bench/support/soak.ts';

describe('the soak reading moto_server peak memory', () => {
  it('reads a running process peak resident set in MB', () => {
    // Act
    const peak = peakResidentMb(process.pid);

    // Assess
    expect(peak).toBeGreaterThan(10);
  });

  it('answers null for no pid and for a process that is gone', () => {
    // Act
    const none = peakResidentMb(undefined);
    const gone = peakResidentMb(2 ** 22 + 1);

    // Assess
    expect(none).toBeNull();
    expect(gone).toBeNull();
  });
});
