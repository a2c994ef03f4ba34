import { useTestDatabase } from "@fleet/test/harness/postgres";
import { afterAll, describe, expect, it } from "vitest";
import { asApiRead, createPrismaClient, disconnectDb, getDb, setDatabaseUrl } from "./client";
import { holdMainPool } from "./testing/hold-main-pool";

describe("the shared Prisma client", () => {
  const database = useTestDatabase();

  afterAll(async () => {
    await disconnectDb();
  });

  it("is built once per database URL", () => {
    expect(getDb(database().url)).toBe(getDb(database().url));
  });

  it("serves the URL set at startup by default, transactions included", async () => {
    setDatabaseUrl(database().url);
    const db = getDb();

    const [host] = await db.$transaction([
      db.host.create({
        data: { name: "default-client-host", memoryCapacityBytes: 2n ** 40n },
        select: { id: true },
      }),
      db.host.count(),
    ]);
    const stored = await db.host.findUniqueOrThrow({
      where: { id: host.id },
      select: { name: true, memoryCapacityBytes: true },
    });

    expect(stored).toEqual({ name: "default-client-host", memoryCapacityBytes: 2n ** 40n });
    expect(getDb()).toBe(getDb(database().url));
  });

  it("answers the API's reads while other work holds every connection of the main pool", async () => {
    const db = createPrismaClient(database().url);
    try {
      const release = await holdMainPool(db);

      expect(await asApiRead(() => db.$queryRaw<{ one: number }[]>`SELECT 1 AS one`)).toEqual([{ one: 1 }]);
      const queued = db.$queryRaw`SELECT 1`.then(() => "answered");
      expect(await Promise.race([queued, new Promise((resolve) => setTimeout(resolve, 100, "queued"))])).toBe(
        "queued",
      );
      await release();
      expect(await queued).toBe("answered");
    } finally {
      await db.$disconnect();
    }
  });
});
