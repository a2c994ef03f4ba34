/**
 * Slows password guessing without letting a stranger lock anyone out.
 *
 * Failures are counted per (account, client address) and per client address
 * alone. Past a few free failures each key must wait before its next attempt,
 * and the wait doubles with every further failure up to a cap. Because an
 * account's own key includes the address, a stranger's failures slow only the
 * stranger: the owner signing in from elsewhere is never held up by them. The
 * address key stops one address from spraying guesses over many accounts.
 *
 * An attempt is counted when it *begins*, synchronously, before the slow
 * password check: parallel requests and batches cannot race past the count.
 * A success then takes the attempt back (and clears the account's key).
 *
 * In memory, per process: it forgets on restart, and each central counts its
 * own callers.
 */
import type { Clock } from "@fleet/shared/clock";

export interface TSignInKeyRule {
  /** Failures allowed without any wait. */
  freeFailures: number;
  /** The wait after the first failure past the free ones; doubles with each further one. */
  baseDelayMs: number;
  maxDelayMs: number;
}

export type TSignInRefusal = {
  ok: false;
  retryAfterMs: number;
  /** Which key is waiting: this account from this address, or this address for every account. */
  scope: "account-and-address" | "address";
  /** True for the first refusal of a waiting period (what the audit log records). */
  firstRefusal: boolean;
};

export type TSignInAttempt =
  | {
      ok: true;
      /** The password matched: the attempt was not a failure. */
      succeeded(): void;
      /** The check never ran (e.g. the server was too busy): the attempt does not count. */
      abandoned(): void;
    }
  | TSignInRefusal;

export interface SignInThrottle {
  /** Counts an attempt for this account from this address, or says how long to wait. */
  begin(attempt: { email: string; address: string }): TSignInAttempt;
}

export interface SignInThrottleOptions {
  clock: Pick<Clock, "now">;
  accountAndAddress?: TSignInKeyRule;
  address?: TSignInKeyRule;
  /** How long a key is remembered after its wait has passed. */
  forgetAfterMs?: number;
  /** Bound on the keys remembered, so random guesses cannot grow memory without end. */
  maxTracked?: number;
}

export const DEFAULT_ACCOUNT_AND_ADDRESS_RULE: TSignInKeyRule = {
  freeFailures: 5,
  baseDelayMs: 1000,
  maxDelayMs: 15 * 60_000,
};
export const DEFAULT_ADDRESS_RULE: TSignInKeyRule = {
  freeFailures: 20,
  baseDelayMs: 1000,
  maxDelayMs: 15 * 60_000,
};

interface KeyState {
  failures: number;
  lastAttemptAt: number;
  /** The end of the waiting period whose first refusal was already reported. */
  reportedWaitUntil: number;
}

export function waitAfterFailures(rule: TSignInKeyRule, failures: number): number {
  if (failures < rule.freeFailures) return 0;
  const doublings = Math.min(failures - rule.freeFailures, 30);
  return Math.min(rule.baseDelayMs * 2 ** doublings, rule.maxDelayMs);
}

export function createSignInThrottle(options: SignInThrottleOptions): SignInThrottle {
  const { clock } = options;
  const rules = {
    pair: options.accountAndAddress ?? DEFAULT_ACCOUNT_AND_ADDRESS_RULE,
    address: options.address ?? DEFAULT_ADDRESS_RULE,
  };
  const forgetAfterMs = options.forgetAfterMs ?? 15 * 60_000;
  const maxTracked = options.maxTracked ?? 20_000;
  // Insertion order is recency order (every touch re-inserts): the first key is the stalest.
  const keys = new Map<string, KeyState>();

  const current = (key: string, rule: TSignInKeyRule, now: number): KeyState | undefined => {
    const state = keys.get(key);
    if (state && now >= state.lastAttemptAt + waitAfterFailures(rule, state.failures) + forgetAfterMs) {
      keys.delete(key);
      return undefined;
    }
    return state;
  };
  const touch = (key: string, state: KeyState) => {
    keys.delete(key);
    keys.set(key, state);
    while (keys.size > maxTracked) {
      const stalest = keys.keys().next().value;
      if (stalest === undefined) break;
      keys.delete(stalest);
    }
  };

  return {
    begin({ email, address }) {
      const now = clock.now();
      const checks = [
        {
          key: `a\n${address}\n${email.trim().toLowerCase()}`,
          rule: rules.pair,
          scope: "account-and-address",
        },
        { key: `b\n${address}`, rule: rules.address, scope: "address" },
      ] as const;
      for (const { key, rule, scope } of checks) {
        const state = current(key, rule, now);
        if (!state) continue;
        const waitUntil = state.lastAttemptAt + waitAfterFailures(rule, state.failures);
        if (now < waitUntil) {
          const firstRefusal = state.reportedWaitUntil !== waitUntil;
          state.reportedWaitUntil = waitUntil;
          return { ok: false, retryAfterMs: waitUntil - now, scope, firstRefusal };
        }
      }
      const counted = checks.map(({ key, rule }) => {
        const state = current(key, rule, now) ?? { failures: 0, lastAttemptAt: now, reportedWaitUntil: 0 };
        state.failures++;
        state.lastAttemptAt = now;
        touch(key, state);
        return { key, state };
      });
      let settled = false;
      const takeBack = (clearAccount: boolean) => {
        if (settled) return;
        settled = true;
        for (const [index, { key, state }] of counted.entries()) {
          if (keys.get(key) !== state) continue;
          if (index === 0 && clearAccount) keys.delete(key);
          else state.failures = Math.max(0, state.failures - 1);
        }
      };
      return {
        ok: true,
        succeeded: () => takeBack(true),
        abandoned: () => takeBack(false),
      };
    },
  };
}
