// Errors of the embedded database that explain themselves: the central prints
// their message alone instead of a stack.
export class EmbeddedPostgresError extends Error {
  override name = "EmbeddedPostgresError";
}
