/**
 * One self-contained linux-x64 executable from a TypeScript entry point, as
 * Node's single executable applications make them: esbuild bundles the entry
 * with everything it imports into one CommonJS file, node turns that into a
 * blob (with V8's code cache, so start-up skips most parsing), and postject
 * injects the blob into a copy of this node binary. The result needs no node,
 * no checkout and no environment on the host. Beside it goes `<name>.sha256`
 * in sha256sum's format. Both are written under temporary names and renamed,
 * so whoever serves `dist/` never hands out half a file.
 */
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import {
  chmodSync,
  copyFileSync,
  createReadStream,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { createRequire } from "node:module";
import { basename, dirname, join } from "node:path";
import * as esbuild from "esbuild";
import { currentCommit, inputsOf, writeBuildRecord } from "./build-record";

// The fuse postject flips so node looks for the injected blob (Node's SEA docs).
const SEA_FUSE = "NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2";

export interface ExecutableSpec {
  /** dist/<name>: the executable; dist/<name>.sha256 beside it. */
  output: string;
  /** The workspace whose package.json gives the version; its dist/ holds the work files. */
  packageDir: string;
  /** Source of the entry module, resolved from `packageDir`. */
  entry: string;
  /**
   * Packages replaced by a module that throws when used: optional dependencies
   * the program never reaches, some of them native addons that cannot be embedded.
   */
  stubs: Record<string, string>;
  /**
   * Optional packages a library tries to load and does without (ws's bufferutil):
   * replaced by a module that fails to load, as a missing package would, since
   * the executable's require() warns on anything but node's own modules.
   */
  absent: string[];
  /** JavaScript run before anything bundled: process settings that must precede every import. */
  prelude?: string;
  /**
   * Another version than package.json's, for a variant built elsewhere (the
   * upgrade test's second agent). Such a build writes no build record, so the
   * real dist/'s staleness is not confused by it.
   */
  version?: string;
}

/** `<name>.json` beside the executable: what it is without running it (the central reads it to know what it serves). */
export interface TExecutableManifest {
  version: string;
  commit: string;
  sha256: string;
}

export function recordPathOf(spec: ExecutableSpec): string {
  return join(spec.packageDir, "dist", `${basename(spec.output)}.build.json`);
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
}

function stubPlugin(stubs: Record<string, string>, absent: string[]): esbuild.Plugin {
  const names = [...Object.keys(stubs), ...absent];
  const filter = new RegExp(`^(${names.map(escapeRegExp).join("|")})$`);
  return {
    name: "fleet-stubs",
    setup(build) {
      build.onResolve({ filter }, (args) => ({ path: args.path, namespace: "fleet-stub" }));
      build.onLoad({ filter: /.*/, namespace: "fleet-stub" }, (args) => {
        if (absent.includes(args.path)) {
          const error = `Cannot find module '${args.path}' (left out of this executable)`;
          return {
            loader: "js",
            contents: `throw Object.assign(new Error(${JSON.stringify(error)}), { code: "MODULE_NOT_FOUND" });`,
          };
        }
        const message = `${args.path} is not part of this executable: ${stubs[args.path]}`;
        // Every property is a function that throws, so `require(x).Client` at load time is fine
        // and only a real use fails, with a message that says why.
        return {
          loader: "js",
          contents: [
            `function unavailable() { throw new Error(${JSON.stringify(message)}); }`,
            "module.exports = new Proxy(unavailable, {",
            '  get: (target, key) => (key === "__esModule" || typeof key === "symbol" ? undefined : unavailable),',
            "});",
          ].join("\n"),
        };
      });
    },
  };
}

async function sha256Of(path: string): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest("hex");
}

export interface BuiltExecutable {
  path: string;
  bytes: number;
  sha256: string;
  version: string;
  commit: string;
}

export async function buildExecutable(spec: ExecutableSpec): Promise<BuiltExecutable> {
  if (process.platform !== "linux" || process.arch !== "x64") {
    throw new Error(
      `the executables are linux-x64 copies of this node binary; this is ${process.platform}-${process.arch}`,
    );
  }
  const startedAtMs = Date.now();
  const version =
    spec.version ??
    (JSON.parse(readFileSync(join(spec.packageDir, "package.json"), "utf8")) as { version: string }).version;
  const commit = currentCommit();
  const workRoot = join(spec.packageDir, "dist");
  mkdirSync(workRoot, { recursive: true });
  // Per build, so two builds at once never share a file.
  const work = mkdtempSync(join(workRoot, `${basename(spec.output)}.`));
  const outDir = dirname(spec.output);
  mkdirSync(outDir, { recursive: true });
  const tempExecutable = join(outDir, `.${basename(spec.output)}.${process.pid}.tmp`);
  try {
    const bundle = join(work, "bundle.cjs");
    const result = await esbuild.build({
      stdin: {
        contents: spec.entry,
        resolveDir: spec.packageDir,
        sourcefile: "fleet:entry.ts",
        loader: "ts",
      },
      bundle: true,
      platform: "node",
      format: "cjs",
      target: `node${process.versions.node}`,
      outfile: bundle,
      metafile: true,
      logLevel: "warning",
      legalComments: "none",
      plugins: [stubPlugin(spec.stubs, spec.absent)],
      define: {
        FLEET_BUILD_INFO: JSON.stringify({ version, commit }),
        // CommonJS has no import.meta; the executable's own path is its closest equivalent.
        "import.meta.url": "__fleetModuleUrl",
      },
      banner: {
        js: [
          spec.prelude ?? "",
          'var __fleetModuleUrl = require("node:url").pathToFileURL(__filename).href;',
        ].join("\n"),
      },
    });

    const seaConfig = join(work, "sea-config.json");
    const blob = join(work, "sea-prep.blob");
    writeFileSync(
      seaConfig,
      JSON.stringify({ main: bundle, output: blob, disableExperimentalSEAWarning: true, useCodeCache: true }),
    );
    execFileSync(process.execPath, ["--experimental-sea-config", seaConfig], { stdio: "pipe" });

    copyFileSync(process.execPath, tempExecutable);
    chmodSync(tempExecutable, 0o755);
    const postject = createRequire(import.meta.url).resolve("postject/dist/cli.js");
    execFileSync(
      process.execPath,
      [postject, tempExecutable, "NODE_SEA_BLOB", blob, "--sentinel-fuse", SEA_FUSE],
      // Its only output is a harmless warning about the ELF note section.
      { stdio: "pipe" },
    );
    const sha256 = await sha256Of(tempExecutable);
    const bytes = statSync(tempExecutable).size;
    renameSync(tempExecutable, spec.output);
    const sumFile = `${spec.output}.sha256`;
    writeFileSync(`${sumFile}.${process.pid}.tmp`, `${sha256}  ${basename(spec.output)}\n`);
    renameSync(`${sumFile}.${process.pid}.tmp`, sumFile);
    const manifest: TExecutableManifest = { version, commit, sha256 };
    const manifestFile = `${spec.output}.json`;
    writeFileSync(`${manifestFile}.${process.pid}.tmp`, `${JSON.stringify(manifest)}\n`);
    renameSync(`${manifestFile}.${process.pid}.tmp`, manifestFile);

    if (spec.version === undefined)
      writeBuildRecord(recordPathOf(spec), {
        inputs: inputsOf(result.metafile.inputs, process.cwd()),
        commit,
        node: process.version,
        startedAtMs,
      });
    return { path: spec.output, bytes, sha256, version, commit };
  } finally {
    rmSync(work, { recursive: true, force: true });
    rmSync(tempExecutable, { force: true });
  }
}
