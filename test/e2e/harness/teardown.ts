/**
 * Stops what a suite started, in the order given: nothing may still talk to
 * what is stopped next, and every step runs even if one before it failed; the
 * failures are thrown together at the end.
 */
export async function teardownInOrder(
  what: string,
  steps: readonly (() => Promise<unknown> | undefined)[],
): Promise<void> {
  const errors: unknown[] = [];
  for (const step of steps) {
    try {
      await step();
    } catch (error) {
      errors.push(error);
    }
  }
  if (errors.length > 0) throw new AggregateError(errors, `${what} teardown failed`);
}
