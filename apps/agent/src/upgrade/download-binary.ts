/**
 * Fetches the central's agent executable for an upgrade and leaves it as
 * `<destination>` only when its sha256 is the one the central announced.
 *
 * Trust: the bytes come over the same link the agent dials — the pinned key
 * when there is a pin (checked before any request is sent), else the CA, and
 * never plain http — so a man in the middle cannot hand out a binary. The sha256 in the upgrade
 * request then binds the download to what the central meant, so a truncated
 * or swapped file is refused. A hostile central itself can of course make its
 * agents run anything it serves: whoever controls the central already
 * controls every host's containers.
 *
 * May import: node built-ins, ../link/pinned-tls.
 */
import { createHash } from "node:crypto";
import { chmod, open, rename, rm } from "node:fs/promises";
import type { IncomingMessage } from "node:http";
import { request as httpsRequest, type RequestOptions } from "node:https";
import { rootCertificates } from "node:tls";
import { pinnedTlsConnect } from "../link/pinned-tls";

export const AGENT_EXECUTABLE_NAME = "fleet-agent-linux-x64";

/** Far above the ~100 MB executable; a central streaming without end is cut off here. */
export const MAX_BINARY_BYTES = 512 * 1024 * 1024;

export class UpgradeRefusedError extends Error {
  override name = "UpgradeRefusedError";
}

/** `http(s)://host/base` → `http(s)://host/base/download/fleet-agent-linux-x64`. */
export function binaryUrlOf(serverUrl: string): URL {
  const url = new URL(serverUrl);
  url.pathname = `${url.pathname.replace(/\/+$/, "")}/download/${AGENT_EXECUTABLE_NAME}`;
  url.search = "";
  url.hash = "";
  return url;
}

export interface DownloadOptions {
  serverUrl: string;
  /** The pin the link dials with; null when the CA (system roots + caPem) decides. */
  serverPin: string | null;
  caPem: string | null;
  /** Lowercase hex the file must hash to. */
  sha256: string;
  /** Where the verified executable goes (mode 0755); a temp file beside it holds it until then. */
  destination: string;
  timeoutMs: number;
  maxBytes?: number;
  signal?: AbortSignal;
}

function get(url: URL, opts: DownloadOptions): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    // Over plain http anyone on the path could answer both the request and the sha256 it is checked
    // against, and what they serve runs as the agent: an upgrade needs the pin or a CA to stand on.
    if (url.protocol !== "https:") {
      reject(new UpgradeRefusedError(`upgrades come only over https://, not ${url.origin}`));
      return;
    }
    const base: RequestOptions = { method: "GET", timeout: opts.timeoutMs, signal: opts.signal };
    const req = httpsRequest(url, {
      ...base,
      // With createConnection and no agent, node uses the pinned socket as it is.
      ...(opts.serverPin !== null
        ? {
            createConnection: pinnedTlsConnect(
              opts.serverPin,
              opts.timeoutMs,
            ) as unknown as RequestOptions["createConnection"],
          }
        : { agent: false, ...(opts.caPem ? { ca: [...rootCertificates, opts.caPem] } : {}) }),
    });
    req.on("response", resolve);
    req.on("timeout", () =>
      req.destroy(new Error(`no answer from ${url.origin} within ${opts.timeoutMs} ms`)),
    );
    req.on("error", reject);
    req.end();
  });
}

/** Downloads, hashes while writing, and renames into place only on a match; on any failure nothing is left. */
export async function downloadVerifiedBinary(opts: DownloadOptions): Promise<{ bytes: number }> {
  if (!/^[0-9a-f]{64}$/.test(opts.sha256))
    throw new UpgradeRefusedError("the expected sha256 is not 64 hex digits");
  const url = binaryUrlOf(opts.serverUrl);
  const maxBytes = opts.maxBytes ?? MAX_BINARY_BYTES;
  const temp = `${opts.destination}.${process.pid}.download`;
  const file = await open(temp, "w", 0o700);
  let bytes = 0;
  try {
    const res = await get(url, opts);
    if (res.statusCode !== 200) {
      res.resume();
      throw new UpgradeRefusedError(`${url.href} answered ${res.statusCode}`);
    }
    const hash = createHash("sha256");
    for await (const chunk of res as AsyncIterable<Buffer>) {
      bytes += chunk.length;
      if (bytes > maxBytes) {
        res.destroy();
        throw new UpgradeRefusedError(`${url.href} sent more than ${maxBytes} bytes`);
      }
      hash.update(chunk);
      await file.write(chunk);
    }
    const got = hash.digest("hex");
    if (got !== opts.sha256) {
      throw new UpgradeRefusedError(
        `the downloaded binary hashes to ${got}, not the expected ${opts.sha256}: refused, nothing replaced`,
      );
    }
    await file.sync();
    await file.close();
    await chmod(temp, 0o755);
    await rename(temp, opts.destination);
    return { bytes };
  } catch (error) {
    await file.close().catch(() => {});
    await rm(temp, { force: true });
    throw error;
  }
}
