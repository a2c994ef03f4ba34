/**
 * What a build read, kept beside its work files, so "is it stale?" can be
 * answered without building: the files esbuild bundled (from its metafile),
 * the commit and node it was built with, and when it started. A file edited
 * after the build started, a new commit or another node makes it stale.
 */
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync, renameSync, statSync, writeFileSync } from "node:fs";
import { isAbsolute, join, relative } from "node:path";
import { REPO_ROOT } from "./paths";

export interface TBuildRecord {
  /** Repo-relative paths of every file the build read. */
  inputs: string[];
  commit: string;
  node: string;
  startedAtMs: number;
}

/** `git rev-parse --short HEAD`, or "unknown" outside a git checkout (a tarball, no git). */
export function currentCommit(): string {
  try {
    return execFileSync("git", ["rev-parse", "--short", "HEAD"], {
      cwd: REPO_ROOT,
      encoding: "utf8",
      stdio: ["ignore", "pipe", "ignore"],
    }).trim();
  } catch {
    return "unknown";
  }
}

export function readBuildRecord(path: string): TBuildRecord | null {
  try {
    return JSON.parse(readFileSync(path, "utf8")) as TBuildRecord;
  } catch {
    return null;
  }
}

export function writeBuildRecord(path: string, record: TBuildRecord): void {
  const temp = `${path}.${process.pid}.tmp`;
  writeFileSync(temp, `${JSON.stringify(record, null, 1)}\n`);
  renameSync(temp, path);
}

/** esbuild's metafile input keys (relative to the working directory) as repo-relative paths. */
export function inputsOf(metafileInputs: Record<string, unknown>, cwd: string): string[] {
  return Object.keys(metafileInputs)
    .filter((key) => !key.includes(":")) // virtual modules (stubs, stdin) have a namespace prefix
    .map((key) => relative(REPO_ROOT, isAbsolute(key) ? key : join(cwd, key)))
    .sort();
}

/**
 * Why the outputs must be rebuilt, or null when they are current. `extraInputs`
 * are files that shape the build without being bundled (the build scripts).
 */
export function staleness(options: {
  outputs: string[];
  recordPath: string;
  extraInputs: string[];
  checkCommit: boolean;
}): string | null {
  for (const output of options.outputs) {
    if (!existsSync(output)) return `${relative(REPO_ROOT, output)} is missing`;
  }
  const record = readBuildRecord(options.recordPath);
  if (!record) return "no build record";
  if (record.node !== process.version) return `built with node ${record.node}, this is ${process.version}`;
  if (options.checkCommit) {
    const commit = currentCommit();
    if (record.commit !== commit) return `built at commit ${record.commit}, HEAD is ${commit}`;
  }
  for (const input of [...record.inputs, ...options.extraInputs.map((p) => relative(REPO_ROOT, p))]) {
    const path = join(REPO_ROOT, input);
    if (!existsSync(path)) return `${input} is gone`;
    if (statSync(path).mtimeMs > record.startedAtMs) return `${input} changed since the build`;
  }
  return null;
}
