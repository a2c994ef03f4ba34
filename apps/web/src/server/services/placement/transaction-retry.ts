// Postgres may end a transaction to break a deadlock (40P01) or a
// serialization conflict (40001). Placement locks host rows in id order, but
// other writers of host rows (a multi-row UPDATE's lock order is the plan's,
// not ours) can still cross it; the victim is rolled back whole, so running
// it again is safe.
const RETRYABLE_SQLSTATES = new Set(["40P01", "40001"]);
const MAX_ATTEMPTS = 4;

export function isRetryableTransactionError(error: unknown): boolean {
  if (typeof error !== "object" || error === null) return false;
  const candidate = error as {
    code?: unknown;
    meta?: { driverAdapterError?: { cause?: { originalCode?: unknown; kind?: unknown } } };
  };
  if (candidate.code === "P2034") return true;
  const cause = candidate.meta?.driverAdapterError?.cause;
  return (
    (typeof cause?.originalCode === "string" && RETRYABLE_SQLSTATES.has(cause.originalCode)) ||
    cause?.kind === "TransactionWriteConflict"
  );
}

export async function withTransactionRetry<T>(run: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await run();
    } catch (error) {
      if (attempt >= MAX_ATTEMPTS || !isRetryableTransactionError(error)) throw error;
      // A short, growing, jittered pause so the two sides do not collide again.
      await new Promise((resolve) => setTimeout(resolve, attempt * 10 + Math.random() * 20));
    }
  }
}
