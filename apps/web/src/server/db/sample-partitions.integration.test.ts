// The daily partitions of the raw sample tables, created and dropped by the
// SQL functions of the init migration.
import { createTestDatabase, type TestDatabase } from "@fleet/test/harness/postgres";
import pg from "pg";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";

let database: TestDatabase;
let client: pg.Client;

beforeAll(async () => {
  database = await createTestDatabase();
});

afterAll(async () => {
  await database?.drop();
});

beforeEach(async () => {
  client = new pg.Client({ connectionString: database.url });
  await client.connect();
  // A far-from-UTC zone: partition bounds must not depend on the session's.
  await client.query(`SET TimeZone = 'Pacific/Auckland'`);
  await client.query(`TRUNCATE "host_samples"`);
  await client.query(
    `DO $$ DECLARE part TEXT; BEGIN
       FOR part IN SELECT relname FROM pg_class WHERE relname ~ '^host_samples_p[0-9]{8}$' LOOP
         EXECUTE format('DROP TABLE %I', part);
       END LOOP;
     END $$`,
  );
});

afterEach(async () => {
  await client.end();
});

function hostSample(hostId: string, ts: string) {
  return {
    text: `INSERT INTO "host_samples" (host_id, ts, cpu_cores, cpu_count, memory_total_bytes, memory_available_bytes,
             memory_used_bytes, load1, load5, load15, disk_total_bytes, disk_free_bytes, containers)
           VALUES ($1, $2, 0.5, 4, 8589934592, 4294967296, 4294967296, 0.1, 0.2, 0.3, 107374182400, 53687091200, 3)`,
    values: [hostId, ts],
  };
}

async function partitionOf(ts: string): Promise<string[]> {
  const result = await client.query<{ partition: string }>(
    `SELECT tableoid::regclass::text AS partition FROM "host_samples" WHERE ts = $1 ORDER BY host_id`,
    [ts],
  );
  return result.rows.map((row) => row.partition);
}

async function ensure(day: string, days: number): Promise<string[]> {
  const result = await client.query<{ name: string }>(
    `SELECT fleet_ensure_daily_partitions AS name FROM fleet_ensure_daily_partitions('host_samples', $1::date, $2)`,
    [day, days],
  );
  return result.rows.map((row) => row.name);
}

describe("fleet_ensure_daily_partitions", () => {
  it("creates the missing days once, with bounds at midnight UTC", async () => {
    expect(await ensure("2030-03-01", 2)).toEqual(["host_samples_p20300301", "host_samples_p20300302"]);
    expect(await ensure("2030-03-01", 3)).toEqual(["host_samples_p20300303"]);
    expect(await ensure("2030-03-01", 3)).toEqual([]);

    await client.query(hostSample("h1", "2030-03-01T23:59:59.999Z"));
    await client.query(hostSample("h1", "2030-03-02T00:00:00.000Z"));
    expect(await partitionOf("2030-03-01T23:59:59.999Z")).toEqual(["host_samples_p20300301"]);
    expect(await partitionOf("2030-03-02T00:00:00.000Z")).toEqual(["host_samples_p20300302"]);
  });

  it("accepts samples of days without a partition and moves them in when the day gets one", async () => {
    await client.query(hostSample("h1", "2030-04-10T12:00:00Z"));
    await client.query(hostSample("h2", "2030-04-10T12:00:00Z"));
    await client.query(hostSample("h1", "2030-04-11T12:00:00Z"));
    expect(await partitionOf("2030-04-10T12:00:00Z")).toEqual([
      "host_samples_default",
      "host_samples_default",
    ]);

    expect(await ensure("2030-04-10", 1)).toEqual(["host_samples_p20300410"]);

    expect(await partitionOf("2030-04-10T12:00:00Z")).toEqual([
      "host_samples_p20300410",
      "host_samples_p20300410",
    ]);
    expect(await partitionOf("2030-04-11T12:00:00Z")).toEqual(["host_samples_default"]);
    // The moved-into table got the parent's primary key when it was attached.
    await expect(client.query(hostSample("h1", "2030-04-10T12:00:00Z"))).rejects.toThrow(/duplicate key/);
    const indexes = await client.query<{ indexname: string }>(
      `SELECT indexname FROM pg_indexes WHERE tablename = 'host_samples_p20300410'`,
    );
    expect(indexes.rows.map((row) => row.indexname)).toEqual(["host_samples_p20300410_pkey"]);
  });

  it("lets concurrent callers race without error, creating each partition once", async () => {
    const others = await Promise.all(
      [0, 1, 2].map(async () => {
        const other = new pg.Client({ connectionString: database.url });
        await other.connect();
        return other;
      }),
    );
    try {
      const results = await Promise.all(
        others.map((other) =>
          other.query<{ name: string }>(
            `SELECT fleet_ensure_daily_partitions AS name FROM fleet_ensure_daily_partitions('host_samples', '2030-05-01', 4)`,
          ),
        ),
      );
      const created = results.flatMap((result) => result.rows.map((row) => row.name)).sort();
      expect(created).toEqual([
        "host_samples_p20300501",
        "host_samples_p20300502",
        "host_samples_p20300503",
        "host_samples_p20300504",
      ]);
    } finally {
      await Promise.all(others.map((other) => other.end()));
    }
  });

  it("rejects a table that is not partitioned by day on ts", async () => {
    await expect(
      client.query(`SELECT fleet_ensure_daily_partitions('hosts', '2030-01-01', 1)`),
    ).rejects.toThrow(/not a partitioned table/);
  });
});

describe("fleet_drop_daily_partitions", () => {
  it("drops the partitions before a day and the default partition's older rows", async () => {
    await ensure("2030-06-01", 3);
    await client.query(hostSample("h1", "2030-05-20T08:00:00Z"));
    await client.query(hostSample("h1", "2030-06-01T08:00:00Z"));
    await client.query(hostSample("h1", "2030-06-02T08:00:00Z"));
    await client.query(hostSample("h1", "2030-06-03T08:00:00Z"));

    const dropped = await client.query<{ name: string }>(
      `SELECT fleet_drop_daily_partitions AS name FROM fleet_drop_daily_partitions('host_samples', '2030-06-03')`,
    );

    expect(dropped.rows.map((row) => row.name)).toEqual(["host_samples_p20300601", "host_samples_p20300602"]);
    const left = await client.query<{ ts: Date }>(`SELECT ts FROM "host_samples" ORDER BY ts`);
    expect(left.rows.map((row) => row.ts.toISOString())).toEqual(["2030-06-03T08:00:00.000Z"]);
  });
});
