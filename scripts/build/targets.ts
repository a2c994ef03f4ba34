/**
 * What `npm run build` makes, each with its own staleness rule:
 *
 *   prisma-client  apps/web/src/generated/prisma   prisma generate (not committed; the others import it)
 *   dashboard  apps/web/.next                      next build
 *   central    apps/web/dist/{server,up}.js        esbuild, ES modules, packages left as imports
 *   agent      dist/fleet-agent-linux-x64(.sha256) one executable (Node SEA)
 *   cli        dist/fleet-linux-x64(.sha256)       one executable (Node SEA)
 */
import { spawnSync } from "node:child_process";
import { existsSync, statSync } from "node:fs";
import { join } from "node:path";
import { staleness } from "./build-record";
import { buildCentralServer, buildDashboard, CENTRAL_RECORD, dashboardStaleness } from "./central";
import { buildExecutable, type ExecutableSpec, recordPathOf } from "./executable";
import {
  AGENT_EXECUTABLE,
  buildScripts,
  CENTRAL_SERVER,
  CENTRAL_UP,
  CLI_EXECUTABLE,
  REPO_ROOT,
} from "./paths";

export const TARGET_NAMES = ["prisma-client", "dashboard", "central", "agent", "cli"] as const;
export type TTargetName = (typeof TARGET_NAMES)[number];

// Loaded inside try/catch when installed: ws's native speed-ups, debug's colour detection.
const OPTIONAL_NATIVE_HELPERS = ["bufferutil", "utf-8-validate", "supports-color"];

export const AGENT_SPEC: ExecutableSpec = {
  output: AGENT_EXECUTABLE,
  packageDir: join(REPO_ROOT, "apps/agent"),
  entry: 'import "./src/main.ts";',
  stubs: {
    // docker-modem loads ssh2 for ssh:// engines; the agent drives only local unix sockets,
    // and ssh2 brings native addons (cpu-features, its crypto binding).
    ssh2: "the agent reaches engines over unix sockets only",
    // dockerode's BuildKit session (builds with version "2"); the agent builds with the classic builder.
    "@grpc/grpc-js": "the agent builds images without BuildKit sessions",
    "@grpc/proto-loader": "the agent builds images without BuildKit sessions",
    protobufjs: "the agent builds images without BuildKit progress decoding",
  },
  absent: OPTIONAL_NATIVE_HELPERS,
  // libuv starts its thread pool at the first use, after this line. The agent's I/O is sockets and
  // synchronous cgroup reads, so two pool threads do; with the default four, their malloc arenas held
  // ~20 MB more anonymous memory with 100 containers (59 → 38 MB; MALLOC_ARENA_MAX=1 saved the same).
  // A value the operator sets wins.
  prelude: 'process.env.UV_THREADPOOL_SIZE ??= "2";',
};

export const CLI_SPEC: ExecutableSpec = {
  output: CLI_EXECUTABLE,
  packageDir: join(REPO_ROOT, "apps/cli"),
  entry: 'import { main } from "./src/main.ts";\nvoid main();',
  stubs: {},
  absent: OPTIONAL_NATIVE_HELPERS,
};

export interface Target {
  name: TTargetName;
  /** Why it must be rebuilt, or null when it is current. */
  staleness(): string | null;
  /** Builds it; returns lines describing what it wrote. */
  build(): Promise<string[]>;
}

function mib(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}

function executableTarget(name: TTargetName, spec: ExecutableSpec): Target {
  return {
    name,
    staleness: () =>
      staleness({
        outputs: [spec.output, `${spec.output}.sha256`, `${spec.output}.json`],
        recordPath: recordPathOf(spec),
        // The version comes from package.json, which is read, not bundled.
        extraInputs: [...buildScripts(), join(spec.packageDir, "package.json")],
        checkCommit: true,
      }),
    async build() {
      const built = await buildExecutable(spec);
      return [
        `${built.path.slice(REPO_ROOT.length + 1)}: ${mib(built.bytes)}, version ${built.version}, commit ${built.commit}`,
        `  sha256 ${built.sha256}`,
      ];
    },
  };
}

const PRISMA_CLIENT = join(REPO_ROOT, "apps/web/src/generated/prisma/client.ts");
const PRISMA_SCHEMA = join(REPO_ROOT, "prisma/schema.prisma");

export const TARGETS: Record<TTargetName, Target> = {
  "prisma-client": {
    name: "prisma-client",
    // The rule scripts/bootstrap applies too.
    staleness: () =>
      !existsSync(PRISMA_CLIENT)
        ? "not generated yet"
        : statSync(PRISMA_SCHEMA).mtimeMs > statSync(PRISMA_CLIENT).mtimeMs
          ? "prisma/schema.prisma is newer"
          : null,
    async build() {
      const result = spawnSync("bash", [join(REPO_ROOT, "scripts/prisma"), "generate"], {
        cwd: REPO_ROOT,
        encoding: "utf8",
      });
      if (result.status !== 0) throw new Error(`prisma generate failed:\n${result.stdout}${result.stderr}`);
      return ["apps/web/src/generated/prisma: generated"];
    },
  },
  dashboard: {
    name: "dashboard",
    staleness: dashboardStaleness,
    async build() {
      buildDashboard({ ifStale: false });
      return ["apps/web/.next: the dashboard's production build"];
    },
  },
  central: {
    name: "central",
    staleness: () =>
      staleness({
        outputs: [CENTRAL_SERVER, CENTRAL_UP],
        recordPath: CENTRAL_RECORD,
        extraInputs: buildScripts(),
        checkCommit: false,
      }),
    async build() {
      const { outputs } = await buildCentralServer();
      return outputs.map((o) => `${o.path.slice(REPO_ROOT.length + 1)}: ${(o.bytes / 1024).toFixed(0)} KiB`);
    },
  },
  agent: executableTarget("agent", AGENT_SPEC),
  cli: executableTarget("cli", CLI_SPEC),
};
