/**
 * Exponential backoff. The link uses full jitter (random in [0, min(cap, base·2ⁿ)])
 * so a fleet of agents reconnecting after a central restart does not arrive in
 * lock-step; the supervisor uses no jitter so restart delays are predictable
 * (1 s, 2 s, 4 s … cap) and visible in events.
 */

export interface BackoffPolicy {
  initialMs: number;
  maxMs: number;
  /** Growth factor per attempt; 2 unless told. */
  multiplier?: number;
  /** "full": uniformly random in [0, ceiling]; "none": exactly the ceiling. */
  jitter: "full" | "none";
}

export class ExponentialBackoff {
  private exponent = 0;
  private handedOut = 0;

  constructor(
    private readonly policy: BackoffPolicy,
    private readonly random: () => number = Math.random,
  ) {}

  /** How many delays were handed out since the last reset. */
  get attempts(): number {
    return this.handedOut;
  }

  /** The upper bound for the next delay, before jitter. */
  ceilingMs(): number {
    const factor = (this.policy.multiplier ?? 2) ** this.exponent;
    return Math.min(this.policy.maxMs, this.policy.initialMs * factor);
  }

  /** The delay before the next try; each call grows the next ceiling until it reaches the cap. */
  nextDelayMs(): number {
    const ceiling = this.ceilingMs();
    // Stop growing the exponent once capped so it never overflows to Infinity.
    if (ceiling < this.policy.maxMs) this.exponent++;
    this.handedOut++;
    if (this.policy.jitter === "none") return ceiling;
    return Math.floor(this.random() * ceiling);
  }

  reset(): void {
    this.exponent = 0;
    this.handedOut = 0;
  }
}
