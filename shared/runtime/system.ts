/** Time and randomness for the composition roots (tests inject their own). */
import type { Sleep } from '#shared/workflow/ports.ts';

const sleep: Sleep = (ms) =>
  new Promise((resolve) => {
    setTimeout(resolve, ms);
  });

export const system = {
  now: (): Date => new Date(),
  sleep,
  /** Uniform in [0, 1), for backoff jitter only (the engine seeds its own randomness). */
  random: Math.random,
};
