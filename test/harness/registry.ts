/**
 * A private image registry on 127.0.0.1 (or another local address) for pull and push tests: Debian's
 * `docker-registry` (distribution 2.x) with its own config (the shipped one
 * demands htpasswd auth), filesystem storage in a temp dir, no auth, deletes on.
 * Also the push/pull helpers that make both engines' failures look alike.
 *
 * May import: node built-ins, ./engines, ./test-image.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { closeSync, openSync, readFileSync, rmSync } from "node:fs";
import { mkdtemp, writeFile } from "node:fs/promises";
import http from "node:http";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { followProgress, registerExitCleanup, type TestEngine } from "./engines";
import { buildTestImage, TEST_IMAGE_TAG } from "./test-image";

const REGISTRY_BINARY = "/usr/bin/docker-registry";
// Below the ephemeral range (32768+), where a client's own port could take ours.
const PORT_RANGE = { from: 20_000, to: 32_000 };
const START_ATTEMPTS = 5;
const START_TIMEOUT_MS = 15_000;

export interface TestRegistry {
  /** `127.0.0.1:PORT` (or the address asked for), the registry part of image references. */
  host: string;
  /** `http://127.0.0.1:PORT` (likewise), for talking to the registry's HTTP API directly. */
  url: string;
  dataDir: string;
  stop(): Promise<void>;
}

export interface RegistryOptions {
  /**
   * IPv4 address to listen on (default 127.0.0.1). Engines in a network namespace cannot
   * reach the root namespace's loopback: give them an address of a veth end (see netns.ts),
   * and name the registry as insecure to dockerd too, which trusts only 127.0.0.0/8 over HTTP.
   */
  address?: string;
}

export async function startRegistry(options: RegistryOptions = {}): Promise<TestRegistry> {
  const address = options.address ?? "127.0.0.1";
  const dir = await mkdtemp(join(tmpdir(), "fleet-registry-"));
  const logPath = join(dir, "registry.log");
  let lastError: Error | undefined;
  for (let attempt = 0; attempt < START_ATTEMPTS; attempt++) {
    const port = await pickFreePort(address);
    const host = `${address}:${port}`;
    const configPath = join(dir, "config.yml");
    await writeFile(configPath, registryConfig(join(dir, "data"), host));
    const logFd = openSync(logPath, "a");
    let child: ChildProcess;
    try {
      child = spawn(REGISTRY_BINARY, ["serve", configPath], {
        cwd: dir,
        stdio: ["ignore", logFd, logFd],
        detached: true,
      });
    } finally {
      closeSync(logFd);
    }
    const exited = new Promise<void>((resolve) => {
      child.once("exit", () => resolve());
      child.once("error", () => resolve());
    });
    child.unref();
    const unregister = registerExitCleanup(() => {
      child.kill("SIGKILL");
      rmSync(dir, { recursive: true, force: true });
    });
    const url = `http://${host}`;
    const ready = await waitUntilServing(url, exited);
    if (ready) {
      let stopping: Promise<void> | undefined;
      return {
        host,
        url,
        dataDir: dir,
        stop() {
          stopping ??= (async () => {
            child.kill("SIGTERM");
            const timedOut = await Promise.race([exited.then(() => false), sleep(5_000).then(() => true)]);
            if (timedOut) {
              child.kill("SIGKILL");
              await exited;
            }
            unregister();
            rmSync(dir, { recursive: true, force: true });
          })();
          return stopping;
        },
      };
    }
    child.kill("SIGKILL");
    await exited;
    unregister();
    lastError = new Error(`docker-registry did not serve on ${host}; log ${logPath}:\n${tail(logPath)}`);
    // Another process may have taken the port between the probe and the bind: try another.
  }
  rmSync(dir, { recursive: true, force: true });
  throw lastError ?? new Error("docker-registry did not start");
}

/** Tags the busybox test image (built if needed) into `registry` and pushes it; returns the reference. */
export async function pushTestImage(
  engine: TestEngine,
  registry: TestRegistry,
  repositoryTag: string = TEST_IMAGE_TAG,
): Promise<string> {
  await buildTestImage(engine);
  const reference = `${registry.host}/${repositoryTag}`;
  await tagImage(engine, TEST_IMAGE_TAG, reference);
  await pushImage(engine, reference);
  return reference;
}

export async function tagImage(engine: TestEngine, source: string, target: string): Promise<void> {
  const { repository, tag } = splitReference(target);
  await engine.docker.getImage(source).tag({ repo: repository, tag });
}

/** Pushes `reference`; throws when the engine reports a failure, in the status or in the stream. */
export async function pushImage(engine: TestEngine, reference: string): Promise<void> {
  const { repository, tag } = splitReference(reference);
  // dockerd rejects a push without X-Registry-Auth; an empty auth config is enough for an open registry.
  const stream = await engine.docker.getImage(repository).push({ tag, authconfig: {} });
  await followProgress(stream);
}

/**
 * Pulls `reference`; throws when the engine reports a failure. dockerd answers a missing
 * image with HTTP 404; Podman 4 answers 200 and puts the error into the progress stream.
 */
export async function pullImage(engine: TestEngine, reference: string): Promise<void> {
  const stream = await engine.docker.pull(reference);
  await followProgress(stream);
}

/** HEAD of `repository:tag`'s manifest: the digest the registry itself computed, or null when it has none. */
export function registryManifestDigest(
  registry: TestRegistry,
  repository: string,
  tag: string,
): Promise<string | null> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      `${registry.url}/v2/${repository}/manifests/${tag}`,
      {
        method: "HEAD",
        headers: {
          Accept: [
            "application/vnd.docker.distribution.manifest.v2+json",
            "application/vnd.oci.image.manifest.v1+json",
          ].join(", "),
        },
      },
      (res) => {
        res.resume();
        const digest = res.headers["docker-content-digest"];
        resolve(res.statusCode === 200 && typeof digest === "string" ? digest : null);
      },
    );
    req.on("error", reject);
    req.end();
  });
}

/** `host:port/a/b:tag` → `{ repository: "host:port/a/b", tag: "tag" }`; the tag defaults to `latest`. */
export function splitReference(reference: string): { repository: string; tag: string } {
  const lastSlash = reference.lastIndexOf("/");
  const colon = reference.indexOf(":", lastSlash + 1);
  if (colon < 0) return { repository: reference, tag: "latest" };
  return { repository: reference.slice(0, colon), tag: reference.slice(colon + 1) };
}

function registryConfig(dataDir: string, host: string): string {
  return [
    "version: 0.1",
    "log:",
    "  level: info",
    "storage:",
    "  filesystem:",
    `    rootdirectory: ${JSON.stringify(dataDir)}`,
    "  delete:",
    "    enabled: true",
    "http:",
    `  addr: ${JSON.stringify(host)}`,
    // Without one the registry logs a warning and makes its own, which is fine for one instance.
    `  secret: ${JSON.stringify(randomBytes(16).toString("hex"))}`,
    "",
  ].join("\n");
}

async function pickFreePort(address: string): Promise<number> {
  for (;;) {
    const port = PORT_RANGE.from + Math.floor(Math.random() * (PORT_RANGE.to - PORT_RANGE.from));
    const free = await new Promise<boolean>((resolve) => {
      const server = net.createServer();
      server.once("error", () => resolve(false));
      server.listen(port, address, () => server.close(() => resolve(true)));
    });
    if (free) return port;
  }
}

async function waitUntilServing(url: string, exited: Promise<void>): Promise<boolean> {
  let hasExited = false;
  void exited.then(() => {
    hasExited = true;
  });
  const deadline = Date.now() + START_TIMEOUT_MS;
  while (!hasExited && Date.now() < deadline) {
    if (await answers(`${url}/v2/`)) return true;
    await sleep(20);
  }
  return false;
}

function answers(url: string): Promise<boolean> {
  return new Promise((resolve) => {
    const request = http.get(url, { timeout: 1_000 }, (response) => {
      response.resume();
      resolve(response.statusCode === 200);
    });
    request.on("timeout", () => request.destroy());
    request.on("error", () => resolve(false));
  });
}

function tail(path: string): string {
  try {
    return readFileSync(path, "utf8").trimEnd().split("\n").slice(-20).join("\n");
  } catch {
    return "(no log)";
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
