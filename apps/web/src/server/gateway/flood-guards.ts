// What one connection may cost: a token bucket for frames in general and a
// sliding-window counter for malformed ones. Both read time from the caller,
// so they are pure and cheap (a few arithmetic operations per frame).

/** Allows `ratePerSecond` on average with bursts of up to `burst`. */
export class TokenBucket {
  private tokens: number;
  private updatedAt: number;

  constructor(
    private readonly ratePerSecond: number,
    private readonly burst: number,
    now: number,
  ) {
    this.tokens = burst;
    this.updatedAt = now;
  }

  /** Takes one token if there is one. */
  tryTake(now: number): boolean {
    const elapsed = Math.max(0, now - this.updatedAt);
    this.tokens = Math.min(this.burst, this.tokens + (elapsed * this.ratePerSecond) / 1000);
    this.updatedAt = now;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}

/** Counts occurrences within the last `windowMs`; memory is bounded by `limit`. */
export class WindowCounter {
  private readonly times: number[] = [];

  constructor(
    private readonly limit: number,
    private readonly windowMs: number,
  ) {}

  /** Records one occurrence; true when more than `limit` fell within the window. */
  hit(now: number): boolean {
    this.times.push(now);
    while (this.times.length > 0 && (this.times[0] as number) <= now - this.windowMs) this.times.shift();
    // Keeping limit + 1 entries is enough to know the limit was passed.
    if (this.times.length > this.limit + 1) this.times.shift();
    return this.times.length > this.limit;
  }
}
