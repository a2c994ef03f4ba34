import { useTestDatabase } from "@fleet/test/harness/postgres";
import { afterAll, describe, expect, it } from "vitest";
import { db, disconnectDb, getDb, setDatabaseUrl } from "./client";

describe("the shared Prisma client", () => {
  const database = useTestDatabase();

  afterAll(async () => {
    await disconnectDb();
  });

  it("is built once per database URL", () => {
    expect(getDb(database().url)).toBe(getDb(database().url));
  });

  it("serves `db` from the URL set at startup, transactions included", async () => {
    setDatabaseUrl(database().url);

    const [host] = await db.$transaction([
      db.host.create({
        data: { name: "db-proxy-host", memoryCapacityBytes: 2n ** 40n },
        select: { id: true },
      }),
      db.host.count(),
    ]);
    const stored = await db.host.findUniqueOrThrow({
      where: { id: host.id },
      select: { name: true, memoryCapacityBytes: true },
    });

    expect(stored).toEqual({ name: "db-proxy-host", memoryCapacityBytes: 2n ** 40n });
    expect(getDb()).toBe(getDb(database().url));
  });
});
