import { createTestDatabase, useTestDatabase } from "@fleet/test/harness/postgres";
import pg from "pg";
import { describe, expect, it } from "vitest";
import { defaultSchemaPath } from "../project-paths";
import { readPrismaDatamodel } from "./prisma-datamodel";
import { findSchemaDrift } from "./schema-drift";

async function execute(url: string, sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

describe("prisma/schema.prisma against the migrated database", () => {
  const database = useTestDatabase();

  it("parses the schema with Prisma's own parser", () => {
    const datamodel = readPrismaDatamodel(defaultSchemaPath());
    const host = datamodel.models.find((model) => model.name === "Host");
    expect(host?.dbName).toBe("hosts");
    expect(host?.fields.find((field) => field.name === "memoryCapacityBytes")).toMatchObject({
      dbName: "memory_capacity_bytes",
      type: "BigInt",
      isRequired: true,
    });
    expect(datamodel.models.length).toBeGreaterThanOrEqual(15);
  });

  it("has every model, field, enum, key, index and foreign key in the migrated database", async () => {
    expect(await findSchemaDrift({ databaseUrl: database().url })).toEqual([]);
  });
});

describe("the drift checker", () => {
  it("reports exactly a dropped column and a dropped table", async () => {
    const scratch = await createTestDatabase();
    try {
      // agent_version is in no index; sessions is referenced by no other table.
      await execute(scratch.url, `ALTER TABLE "hosts" DROP COLUMN "agent_version"; DROP TABLE "sessions";`);

      const differences = await findSchemaDrift({ databaseUrl: scratch.url });

      expect(differences).toEqual([
        { kind: "missing-table", object: "sessions", expected: "table for model Session", actual: "absent" },
        {
          kind: "missing-column",
          object: "hosts.agent_version",
          expected: "column for Host.agentVersion",
          actual: "absent",
        },
      ]);
    } finally {
      await scratch.drop();
    }
  });

  it("reports wrong types, nullability, enum values, indexes and foreign keys", async () => {
    const scratch = await createTestDatabase();
    try {
      await execute(
        scratch.url,
        `ALTER TABLE "hosts" ALTER COLUMN "labels" TYPE JSON;
         ALTER TABLE "hosts" ALTER COLUMN "memory_capacity_bytes" TYPE INTEGER;
         ALTER TABLE "containers" ALTER COLUMN "exit_code" SET NOT NULL;
         ALTER TABLE "users" ALTER COLUMN "name" DROP NOT NULL;
         ALTER TYPE "host_status" RENAME VALUE 'offline' TO 'gone';
         DROP INDEX "events_ts_idx";
         ALTER TABLE "containers" DROP CONSTRAINT "containers_host_id_fkey";
         ALTER TABLE "host_images" DROP CONSTRAINT "host_images_host_id_fkey",
           ADD CONSTRAINT "host_images_host_id_fkey" FOREIGN KEY ("host_id") REFERENCES "hosts"("id");`,
      );

      const differences = await findSchemaDrift({ databaseUrl: scratch.url });

      expect(differences.map((difference) => `${difference.kind} ${difference.object}`).sort()).toEqual(
        [
          "column-type hosts.labels",
          "column-type hosts.memory_capacity_bytes",
          "column-nullability containers.exit_code",
          "column-nullability users.name",
          "missing-enum-value host_status.offline",
          "missing-index events_ts_idx",
          "missing-foreign-key containers_host_id_fkey",
          "foreign-key-mismatch host_images_host_id_fkey",
        ].sort(),
      );
      expect(differences.find((difference) => difference.object === "hosts.labels")).toMatchObject({
        expected: "jsonb",
        actual: "json",
      });
    } finally {
      await scratch.drop();
    }
  });
});
