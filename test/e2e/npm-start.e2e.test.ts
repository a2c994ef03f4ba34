// `npm start` as an operator runs it after `npm run build`: plain node on the
// built central (apps/web/dist/server.js) serving the API and the dashboard's
// production build, with no TypeScript compiler (tsx, esbuild) anywhere in its
// process tree.
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildTargets } from "../../scripts/build/build";
import { CENTRAL_SERVER, REPO_ROOT } from "../../scripts/build/paths";
import { findFreePort } from "../harness/ports";
import { createTestDatabase, type TestDatabase } from "../harness/postgres";

const START_TIMEOUT_MS = 60_000;

/** pid → command line of every process under `root`, itself included. */
function processTree(root: number): Map<number, string> {
  const parentOf = new Map<number, number>();
  for (const entry of readdirSync("/proc")) {
    const pid = Number(entry);
    if (!Number.isInteger(pid)) continue;
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
      // The fields after the parenthesised command name: state, then the parent's pid.
      parentOf.set(pid, Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]));
    } catch {
      // Gone since the listing.
    }
  }
  const tree = new Map<number, string>();
  const visit = (pid: number) => {
    try {
      tree.set(pid, readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").join(" ").trim());
    } catch {
      return;
    }
    for (const [child, parent] of parentOf) if (parent === pid) visit(child);
  };
  visit(root);
  return tree;
}

async function healthOf(url: string): Promise<unknown> {
  const response = await fetch(`${url}/api/trpc/health`, { signal: AbortSignal.timeout(2000) });
  return ((await response.json()) as { result?: { data?: { json?: unknown } } }).result?.data?.json;
}

describe("npm start", () => {
  let database: TestDatabase;
  let child: ChildProcess;
  let url: string;
  let output = "";

  beforeAll(async () => {
    // The e2e setup built the dashboard; the server's JavaScript may be older than its sources.
    await buildTargets(["central"], {
      ifStale: true,
      log: (line) => process.stderr.write(`npm-start: ${line}\n`),
    });
    database = await createTestDatabase();
    const port = await findFreePort();
    url = `http://127.0.0.1:${port}`;
    const env: NodeJS.ProcessEnv = { ...process.env };
    // vitest's "test" must not leak in: the script sets production itself.
    delete (env as Record<string, string | undefined>).NODE_ENV;
    child = spawn("npm", ["start"], {
      cwd: REPO_ROOT,
      env: {
        ...env,
        PORT: String(port),
        HOST: "127.0.0.1",
        DATABASE_URL: database.url,
        FLEET_PUBLIC_URL: url,
        FLEET_LOG_LEVEL: "warn",
      },
      stdio: ["ignore", "pipe", "pipe"],
      // Its own process group, so the whole tree can be stopped at the end.
      detached: true,
    });
    const keep = (chunk: Buffer) => {
      output = (output + chunk.toString()).slice(-20_000);
    };
    child.stdout?.on("data", keep);
    child.stderr?.on("data", keep);
    const deadline = Date.now() + START_TIMEOUT_MS;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`npm start exited with ${child.exitCode}:\n${output}`);
      const health = await healthOf(url).catch(() => null);
      if (health) break;
      if (Date.now() > deadline) throw new Error(`npm start did not answer within 60 s:\n${output}`);
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }, 120_000);

  afterAll(async () => {
    if (child?.pid && child.exitCode === null) {
      const exited = once(child, "exit");
      process.kill(-child.pid, "SIGTERM");
      const timer = setTimeout(() => process.kill(-child.pid!, "SIGKILL"), 15_000);
      await exited;
      clearTimeout(timer);
    }
    await database?.drop();
  });

  it("runs the built server with plain node, no tsx or esbuild in its process tree", () => {
    const commands = [...processTree(child.pid!).values()];
    expect(commands.some((c) => /(^|\/)node .*apps\/web\/dist\/server\.js$/.test(c))).toBe(true);
    expect(CENTRAL_SERVER).toBe(join(REPO_ROOT, "apps/web/dist/server.js"));
    for (const command of commands) {
      expect(command).not.toMatch(/tsx|esbuild/);
    }
  });

  it("answers /api/trpc/health and serves the dashboard's production build", async () => {
    expect(await healthOf(url)).toMatchObject({ status: "ok", database: "ok" });
    const page = await fetch(`${url}/sign-in`);
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain("/_next/static/");
    // A dev server would serve its hot-reload client.
    expect(html).not.toMatch(/hmr|react-refresh/i);
    const script = html.match(/\/_next\/static\/[^"]+\.js/)?.[0];
    expect(script).toBeDefined();
    expect((await fetch(`${url}${script}`)).status).toBe(200);
  });
});
