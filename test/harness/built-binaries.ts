/**
 * The built executables for tests: `dist/fleet-agent-linux-x64` and
 * `dist/fleet-linux-x64`, built first when missing or stale (a bundled
 * source changed since, another commit, another node). Two test files may
 * ask at once: builds of one executable take turns on a lock file, and the
 * second finds the first's result current.
 *
 * May import: the build (scripts/build).
 */
import { join } from "node:path";
import { buildTargets } from "../../scripts/build/build";
import { buildExecutable } from "../../scripts/build/executable";
import { AGENT_EXECUTABLE, CLI_EXECUTABLE } from "../../scripts/build/paths";
import { AGENT_SPEC } from "../../scripts/build/targets";

const log = (line: string) => process.stderr.write(`built-binaries: ${line}\n`);

/** Absolute path of the agent executable, current with the checkout. */
export async function ensureAgentBinary(): Promise<string> {
  await buildTargets(["agent"], { ifStale: true, log });
  return AGENT_EXECUTABLE;
}

/** Absolute path of the `fleet` CLI executable, current with the checkout. */
export async function ensureCliBinary(): Promise<string> {
  await buildTargets(["cli"], { ifStale: true, log });
  return CLI_EXECUTABLE;
}

/**
 * The agent built as another version into `dir` (the executable, its .sha256
 * and .json manifest, as dist/ holds them), for a central to serve as an
 * upgrade; the real dist/ and its build record are left alone.
 */
export async function buildAgentVariant(options: { version: string; dir: string }): Promise<string> {
  const output = join(options.dir, "fleet-agent-linux-x64");
  await buildExecutable({ ...AGENT_SPEC, output, version: options.version });
  return output;
}
