import { existsSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { preparePostgresDir } from "@fleet/test/harness/global-setup";
import pg from "pg";

export interface BenchPostgres {
  /** The admin URL (database `postgres`). */
  url: string;
  /**
   * `true`: fsync, synchronous_commit and full_page_writes on (Postgres' defaults, what a
   * production server runs); `false`: all three off (the test harness's speed settings).
   * Returns the settings a new session then sees.
   */
  setDurable(durable: boolean): Promise<DurabilitySettings>;
  /**
   * CPU seconds the server has used so far (the postmaster, its live processes and those it
   * has reaped): the difference over a pass is what Postgres cost, beside this process's own.
   */
  cpuSeconds(): number;
  /**
   * Writes and drops about `megabytes` of table (fast, with durability off), then
   * checkpoints, so that WAL segments exist to be recycled, as on a server that has been
   * running: a fresh cluster has one, and creating each new 16 MB segment (zeroed and,
   * with fsync on, flushed) costs the first durable pass more than its inserts did.
   */
  prewarmWal(megabytes: number): Promise<void>;
  /** The server's current WAL position in bytes: the difference over a pass is the WAL it wrote. */
  walBytes(): Promise<number>;
  stop(): void;
}

export interface DurabilitySettings {
  fsync: string;
  synchronous_commit: string;
  full_page_writes: string;
}

// USER_HZ: the unit of /proc/<pid>/stat's times on Linux (100 on every common build).
const CLOCK_TICKS_PER_SECOND = 100;

/** Fields of /proc/<pid>/stat after the command name (which may hold spaces): [state, ppid, …]. */
function procStat(pid: number): string[] | null {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, "utf8");
    return text.slice(text.lastIndexOf(")") + 2).split(" ");
  } catch {
    return null;
  }
}

/** utime + stime (+ cutime + cstime of reaped children) of one process, in ticks. */
function processTicks(fields: string[], withChildren: boolean): number {
  // stat fields 14-17 (1-based) are utime, stime, cutime, cstime; `fields` starts at field 3.
  const [utime, stime, cutime, cstime] = fields.slice(11, 15).map(Number);
  return (utime ?? 0) + (stime ?? 0) + (withChildren ? (cutime ?? 0) + (cstime ?? 0) : 0);
}

function serverCpuSeconds(postmasterPid: number): number {
  const postmaster = procStat(postmasterPid);
  if (!postmaster) return Number.NaN;
  let ticks = processTicks(postmaster, true);
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    const fields = procStat(Number(entry));
    if (fields && Number(fields[1]) === postmasterPid) ticks += processTicks(fields, false);
  }
  return ticks / CLOCK_TICKS_PER_SECOND;
}

async function readSettings(url: string): Promise<DurabilitySettings> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const result = await client.query<{ name: keyof DurabilitySettings; setting: string }>(
      `SELECT name, setting FROM pg_settings WHERE name IN ('fsync', 'synchronous_commit', 'full_page_writes')`,
    );
    const settings = { fsync: "?", synchronous_commit: "?", full_page_writes: "?" };
    for (const row of result.rows) settings[row.name] = row.setting;
    return settings;
  } finally {
    await client.end();
  }
}

export function startBenchPostgres(binDir: string, port: number): BenchPostgres {
  const { baseDir, dataDir, logFile, run } = preparePostgresDir(binDir, "fleet-bench-pg-");
  // Nothing about durability here: that is set per pass, and the command line would outrank it.
  const serverOptions = [`-p ${port}`, `-k ${baseDir}`, "-c listen_addresses=127.0.0.1"].join(" ");
  try {
    run("initdb", ["-D", dataDir, "-A", "trust", "-U", "postgres", "-E", "UTF8", "--locale=C", "--no-sync"]);
    run("pg_ctl", ["-D", dataDir, "-l", logFile, "-o", serverOptions, "-w", "-t", "60", "start"]);
  } catch (error) {
    const log = existsSync(logFile) ? readFileSync(logFile, "utf8") : "";
    rmSync(baseDir, { recursive: true, force: true });
    throw new Error(`could not start the bench PostgreSQL on port ${port}: ${String(error)}\n${log}`);
  }
  const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
  let stopped = false;
  const stop = () => {
    if (stopped) return;
    stopped = true;
    process.off("exit", stop);
    try {
      run("pg_ctl", ["-D", dataDir, "-m", "immediate", "-w", "stop"]);
    } finally {
      rmSync(baseDir, { recursive: true, force: true });
    }
  };
  // An interrupted run must not leave a server behind.
  process.on("exit", stop);
  const postmasterPid = Number(readFileSync(join(dataDir, "postmaster.pid"), "utf8").split("\n")[0]);
  const query = async <T extends pg.QueryResultRow>(sql: string): Promise<T[]> => {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      return (await client.query<T>(sql)).rows;
    } finally {
      await client.end();
    }
  };
  return {
    url,
    stop,
    cpuSeconds: () => serverCpuSeconds(postmasterPid),
    async prewarmWal(megabytes) {
      // About 1 KB of WAL per row of 1000 bytes.
      const rows = Math.ceil(megabytes * 1024);
      await query(
        `CREATE TABLE fleet_bench_wal_warmup AS SELECT g, repeat('x', 1000) AS pad FROM generate_series(1, ${rows}) AS g`,
      );
      await query("DROP TABLE fleet_bench_wal_warmup");
      await query("CHECKPOINT");
    },
    async walBytes() {
      const [row] = await query<{ bytes: string }>(
        "SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), '0/0')::text AS bytes",
      );
      return Number(row?.bytes ?? Number.NaN);
    },
    async setDurable(durable) {
      const value = durable ? "on" : "off";
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      try {
        for (const name of ["fsync", "synchronous_commit", "full_page_writes"]) {
          await client.query(`ALTER SYSTEM SET ${name} = ${value}`);
        }
        await client.query("SELECT pg_reload_conf()");
        // A checkpoint puts the pass before behind us (its dirty pages, its WAL) and makes
        // the next one start as a fresh server would: with full-page writes due.
        await client.query("CHECKPOINT");
      } finally {
        await client.end();
      }
      // The reload reaches the server asynchronously: wait until a new session sees it.
      for (let attempt = 0; ; attempt++) {
        const settings = await readSettings(url);
        if (settings.fsync === value && settings.full_page_writes === value) return settings;
        if (attempt >= 50) throw new Error(`the bench PostgreSQL still has ${JSON.stringify(settings)}`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    },
  };
}
