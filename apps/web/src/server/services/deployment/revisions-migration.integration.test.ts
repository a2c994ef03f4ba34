// The migration that brings revisions: a deployment made before it becomes
// revision 1 (its spec and digest), and every replica row it has (removed ones
// too, for history) is marked as made from it.
import { cp, mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { useTestDatabase } from "@fleet/test/harness/postgres";
import pg from "pg";
import { afterAll, describe, expect, test } from "vitest";
import { migrate } from "../../db/migrator";

const MIGRATIONS = fileURLToPath(new URL("../../../../../../prisma/migrations", import.meta.url));
const THIS_MIGRATION = "20261207070000_deployment_revisions_rollouts";

describe("the revisions migration", () => {
  const getDatabase = useTestDatabase({ migrate: false });
  let before = "";
  afterAll(async () => {
    if (before) await rm(before, { recursive: true, force: true });
  });

  test("existing deployments become revision 1, with their replicas", async () => {
    // Every migration before this one, as a database made by the previous release has them.
    before = await mkdtemp(join(tmpdir(), "fleet-migrations-"));
    for (const entry of await readdir(MIGRATIONS)) {
      if (entry >= THIS_MIGRATION && entry !== "migration_lock.toml") continue;
      await cp(join(MIGRATIONS, entry), join(before, entry), { recursive: true });
    }
    const { url } = getDatabase();
    await migrate({ databaseUrl: url, migrationsDir: before });
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      const spec = { image: `busybox:1.36@sha256:${"a".repeat(64)}`, command: null, env: { A: "1" } };
      await client.query(
        `INSERT INTO deployments (id, name, spec, replicas, image_digest, updated_at)
         VALUES ('d1', 'web', $1, 2, $2, now())`,
        [JSON.stringify(spec), `sha256:${"a".repeat(64)}`],
      );
      for (const [id, removed] of [
        ["c1", false],
        ["c2", false],
        ["c0", true],
      ] as const) {
        await client.query(
          `INSERT INTO containers (id, name, deployment_id, replica_index, image, spec, cpu_request_millis,
             memory_request_bytes, pids_request, updated_at, removed_at)
           VALUES ($1, $2, 'd1', 1, 'busybox:1.36', '{}', 0, 0, 0, now(), $3)`,
          [id, `web-${id}`, removed ? new Date() : null],
        );
      }
      await migrate({ databaseUrl: url, migrationsDir: MIGRATIONS });
      const revisions = await client.query(
        `SELECT number, spec, image_digest, diff, created_by FROM deployment_revisions WHERE deployment_id = 'd1'`,
      );
      expect(revisions.rows).toEqual([
        {
          number: 1,
          spec,
          image_digest: `sha256:${"a".repeat(64)}`,
          diff: "created",
          created_by: "migration",
        },
      ]);
      const deployment = await client.query(
        `SELECT revision, update_policy FROM deployments WHERE id = 'd1'`,
      );
      expect(deployment.rows).toEqual([{ revision: 1, update_policy: {} }]);
      const replicas = await client.query(`SELECT id, revision FROM containers ORDER BY id`);
      expect(replicas.rows).toEqual([
        { id: "c0", revision: 1 },
        { id: "c1", revision: 1 },
        { id: "c2", revision: 1 },
      ]);
    } finally {
      await client.end();
    }
  });
});
