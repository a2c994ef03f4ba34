/**
 * `GET /download/<name>` and `/download/<name>.sha256` on the agent port: the
 * executables `npm run build` leaves in dist/ (or FLEET_DOWNLOADS_DIR), each
 * with the sha256sum line the build wrote. Only the names below are served,
 * so no request path ever becomes a file path. They hold no secret and need
 * no credentials; hosts reach them over the pinned TLS port.
 *
 * May import: node built-ins, ../db/project-paths (to find the checkout), ../env types.
 */
import { createReadStream } from "node:fs";
import { readFile, stat } from "node:fs/promises";
import type { IncomingMessage, ServerResponse } from "node:http";
import { dirname, join, resolve } from "node:path";
import { pipeline } from "node:stream/promises";
import { findProjectPath } from "../db/project-paths";
import type { TEnv } from "../env";
import type { Logger } from "../logger";

export const DOWNLOAD_PATH_PREFIX = "/download/";
export const AGENT_EXECUTABLE = "fleet-agent-linux-x64";
export const CLI_EXECUTABLE = "fleet-linux-x64";
const EXECUTABLES: readonly string[] = [AGENT_EXECUTABLE, CLI_EXECUTABLE];

/** FLEET_DOWNLOADS_DIR, else dist/ at the checkout's root. */
export function downloadsDirOf(env: Pick<TEnv, "FLEET_DOWNLOADS_DIR">): string {
  if (env.FLEET_DOWNLOADS_DIR) return resolve(env.FLEET_DOWNLOADS_DIR);
  try {
    return join(dirname(findProjectPath("turbo.json")), "dist");
  } catch {
    return resolve("dist");
  }
}

export type TChecksum = { ok: true; sha256: string } | { ok: false; problem: string };

// sha256sum's output: hex, a space, a space (or '*' for binary mode), the name.
const SHA256SUM_LINE = /^([0-9a-f]{64}) [ *](\S+)$/;

/**
 * The build's checksum of `name`: what the install script holds the download
 * to, so a binary changed after the build is refused by every host.
 */
export async function checksumOf(dir: string, name: string): Promise<TChecksum> {
  const path = join(dir, `${name}.sha256`);
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT")
      return { ok: false, problem: notBuilt(dir, name) };
    throw error;
  }
  const match = SHA256SUM_LINE.exec(text.trim());
  if (!match || match[2] !== name) {
    return { ok: false, problem: `${path} is not one "<sha256>  ${name}" line: run \`npm run build\` again` };
  }
  return { ok: true, sha256: match[1] as string };
}

function notBuilt(dir: string, name: string): string {
  return `${name} is not built on this central (no ${join(dir, name)} or its .sha256): run \`npm run build\` in the central's checkout, or point FLEET_DOWNLOADS_DIR at the folder that holds it`;
}

function refuse(res: ServerResponse, status: number, message: string): void {
  res.writeHead(status, { "content-type": "text/plain; charset=utf-8", "cache-control": "no-store" });
  res.end(`${message}\n`);
}

/** Answers a request under /download/; `name` is the rest of the path, still URL-encoded. */
export async function serveDownload(options: {
  req: IncomingMessage;
  res: ServerResponse;
  name: string;
  dir: string;
  log: Logger;
}): Promise<void> {
  const { req, res, name, dir, log } = options;
  if (req.method !== "GET" && req.method !== "HEAD") {
    res.setHeader("allow", "GET, HEAD");
    refuse(res, 405, "only GET and HEAD");
    return;
  }
  const wantsChecksum = name.endsWith(".sha256");
  const executable = wantsChecksum ? name.slice(0, -".sha256".length) : name;
  if (!EXECUTABLES.includes(executable)) {
    refuse(
      res,
      404,
      `no such download; there are ${EXECUTABLES.map((n) => `${DOWNLOAD_PATH_PREFIX}${n}`).join(", ")} (each also as .sha256)`,
    );
    return;
  }
  const checksum = await checksumOf(dir, executable);
  if (!checksum.ok) {
    refuse(res, 404, checksum.problem);
    return;
  }
  if (wantsChecksum) {
    const body = `${checksum.sha256}  ${executable}\n`;
    res.writeHead(200, {
      "content-type": "text/plain; charset=utf-8",
      "content-length": Buffer.byteLength(body),
      "cache-control": "no-store",
    });
    res.end(req.method === "HEAD" ? undefined : body);
    return;
  }
  const path = join(dir, executable);
  let size: number;
  try {
    const info = await stat(path);
    if (!info.isFile()) throw Object.assign(new Error("not a file"), { code: "ENOENT" });
    size = info.size;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") {
      refuse(res, 404, notBuilt(dir, executable));
      return;
    }
    throw error;
  }
  res.writeHead(200, {
    "content-type": "application/octet-stream",
    "content-length": size,
    "content-disposition": `attachment; filename="${executable}"`,
    "x-checksum-sha256": checksum.sha256,
    "cache-control": "no-store",
  });
  if (req.method === "HEAD") {
    res.end();
    return;
  }
  try {
    await pipeline(createReadStream(path), res);
  } catch (error) {
    // The client went away, or the file changed under us: the length or checksum tells the client.
    log.debug({ err: error, executable }, "download ended early");
    res.destroy();
  }
}
