// Limits of the central's HTTP API that its clients must respect too.

/** Calls in one batched tRPC request; the central refuses larger batches. */
export const MAX_API_BATCH_SIZE = 10;

/** Procedures that never travel in a batch: each sign-in attempt is its own request. */
export const UNBATCHED_PROCEDURE_PREFIX = "auth.";
