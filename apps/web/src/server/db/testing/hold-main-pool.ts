// Holds every connection of a client's main pool in open transactions, as the
// agents' writes do in bursts at fleet scale, until released: for tests of
// what must still answer then (the API's reads, the health ping).
import { MAIN_POOL_MAX, type PrismaClient } from "../client";

export async function holdMainPool(db: PrismaClient): Promise<() => Promise<void>> {
  let release = () => {};
  const gate = new Promise<void>((resolve) => {
    release = resolve;
  });
  let holding = 0;
  const holders = Array.from({ length: MAIN_POOL_MAX }, () =>
    db.$transaction(
      async (tx) => {
        await tx.$queryRaw`SELECT 1`;
        holding++;
        await gate;
      },
      { maxWait: 10_000, timeout: 20_000 },
    ),
  );
  while (holding < MAIN_POOL_MAX) await new Promise((resolve) => setTimeout(resolve, 10));
  return async () => {
    release();
    await Promise.all(holders);
  };
}
