/**
 * Finds the container engine socket the agent should drive: the `--engine`
 * flag, else DOCKER_HOST, else the usual Docker and Podman sockets, whichever
 * exists and answers `/_ping`. Only unix sockets: the agent reads the
 * containers' cgroup files, so the engine must run on this very host.
 *
 * May import: node built-ins, the driver contract.
 */
import { stat } from "node:fs/promises";
import http from "node:http";
import { DriverError } from "./driver";

export const DEFAULT_ENGINE_SOCKETS = ["/var/run/docker.sock", "/run/podman/podman.sock"] as const;

const PING_TIMEOUT_MS = 3_000;

export interface DiscoverEngineOptions {
  /** The `--engine` flag: `unix:///path/to.sock` or a plain path. */
  flag?: string | undefined;
  /** The process environment (only DOCKER_HOST is read). */
  env: Record<string, string | undefined>;
  /** Sockets tried when neither the flag nor DOCKER_HOST is set. */
  candidates?: readonly string[];
  pingTimeoutMs?: number;
}

export interface DiscoveredEngine {
  socketPath: string;
  source: "flag" | "DOCKER_HOST" | "default";
}

/** `unix:///a/b.sock` or `/a/b.sock` → `/a/b.sock`; anything else is refused with a reason. */
export function socketPathFrom(value: string, where: string): string {
  const trimmed = value.trim();
  if (trimmed.startsWith("unix://")) {
    const path = trimmed.slice("unix://".length);
    if (!path.startsWith("/"))
      throw new DriverError("unavailable", `${where}: "${value}" must be unix:///absolute/path`);
    return path;
  }
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(trimmed);
  if (scheme) {
    throw new DriverError(
      "unavailable",
      `${where}: "${value}" uses ${scheme[1]}://, but only unix sockets are supported (the engine must run on this host)`,
    );
  }
  if (!trimmed.startsWith("/"))
    throw new DriverError("unavailable", `${where}: "${value}" is not an absolute path`);
  return trimmed;
}

export async function discoverEngine(opts: DiscoverEngineOptions): Promise<DiscoveredEngine> {
  const timeoutMs = opts.pingTimeoutMs ?? PING_TIMEOUT_MS;
  const explicit: Array<[DiscoveredEngine["source"], string, string]> = [];
  if (opts.flag) explicit.push(["flag", "--engine", opts.flag]);
  else if (opts.env.DOCKER_HOST) explicit.push(["DOCKER_HOST", "DOCKER_HOST", opts.env.DOCKER_HOST]);

  const [chosen] = explicit;
  if (chosen) {
    const [source, where, value] = chosen;
    const socketPath = socketPathFrom(value, where);
    const problem = await probe(socketPath, timeoutMs);
    if (problem)
      throw new DriverError(
        "unavailable",
        `no container engine at ${socketPath} (from ${where}): ${problem}`,
      );
    return { socketPath, source };
  }

  const tried: string[] = [];
  for (const socketPath of opts.candidates ?? DEFAULT_ENGINE_SOCKETS) {
    const problem = await probe(socketPath, timeoutMs);
    if (!problem) return { socketPath, source: "default" };
    tried.push(`${socketPath} (${problem})`);
  }
  throw new DriverError(
    "unavailable",
    `no container engine found; tried ${tried.join(", ")}. Start Docker or Podman (podman system service), or pass --engine unix:///path/to.sock or set DOCKER_HOST`,
  );
}

/** Why the socket is not a usable engine, or null when it answers `/_ping` with OK. */
async function probe(socketPath: string, timeoutMs: number): Promise<string | null> {
  try {
    const info = await stat(socketPath);
    if (!info.isSocket()) return "not a socket";
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "ENOENT" ? "does not exist" : String(err);
  }
  return new Promise((resolve) => {
    const req = http.get({ socketPath, path: "/_ping", timeout: timeoutMs }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => {
        body += chunk;
      });
      res.on("end", () => {
        resolve(res.statusCode === 200 && body.trim() === "OK" ? null : `/_ping answered ${res.statusCode}`);
      });
    });
    req.on("timeout", () => req.destroy(new Error(`no answer to /_ping within ${timeoutMs} ms`)));
    req.on("error", (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
  });
}
