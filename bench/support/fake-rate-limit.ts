/**
 * A provider's rate limit as the fake provider enforces it (tests and `npm run bench:rate`):
 * requests and tokens per minute, each a token bucket that refills continuously and holds one
 * second of the limit, as providers enforce per-minute limits over shorter periods. A call over the
 * limit is refused with the time until it would fit (the provider's retry-after).
 */
export interface FakeRateLimitOptions {
  requestsPerMinute: number;
  tokensPerMinute?: number;
  /** Seconds of the limit a bucket holds (default 1). */
  burstSeconds?: number;
}

export type FakeLimitAnswer = { ok: true } | { ok: false; retryAfterMs: number };

class Bucket {
  private level: number;
  private at = 0;
  constructor(
    private readonly perMs: number,
    private readonly capacity: number,
  ) {
    this.level = capacity;
  }

  /** Takes `cost` at `now` or says how long until it fits. */
  take(cost: number, now: number, commit: boolean): number {
    const level = Math.min(this.capacity, this.level + (now - this.at) * this.perMs);
    if (level >= cost) {
      if (commit) {
        this.level = level - cost;
        this.at = now;
      }
      return 0;
    }
    return Math.ceil((cost - level) / this.perMs);
  }
}

export class FakeProviderLimit {
  private readonly requests: Bucket;
  private readonly tokens: Bucket | undefined;
  /** Calls accepted and refused so far. */
  accepted = 0;
  refused = 0;

  constructor(options: FakeRateLimitOptions) {
    const burst = options.burstSeconds ?? 1;
    const rps = options.requestsPerMinute / 60_000;
    this.requests = new Bucket(rps, Math.max(1, rps * 1000 * burst));
    if (options.tokensPerMinute !== undefined) {
      const tps = options.tokensPerMinute / 60_000;
      this.tokens = new Bucket(tps, tps * 1000 * burst);
    }
  }

  /** One call of `tokens` tokens arriving at `now` (ms). */
  take(tokens: number, now: number): FakeLimitAnswer {
    const waitRequests = this.requests.take(1, now, false);
    const waitTokens = this.tokens?.take(tokens, now, false) ?? 0;
    if (waitRequests > 0 || waitTokens > 0) {
      this.refused++;
      return { ok: false, retryAfterMs: Math.max(waitRequests, waitTokens) };
    }
    this.requests.take(1, now, true);
    this.tokens?.take(tokens, now, true);
    this.accepted++;
    return { ok: true };
  }
}
