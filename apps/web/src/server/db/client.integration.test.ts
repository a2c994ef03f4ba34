import { useTestDatabase } from "@fleet/test/harness/postgres";
import { afterAll, describe, expect, it } from "vitest";
import { disconnectDb, getDb, setDatabaseUrl } from "./client";

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
});
