/**
 * What the agent keeps on disk between runs, in its state dir:
 *
 * - `credential.json`: `{ serverUrl, hostId, credential, serverPin }`, mode
 *   0600. Written once the central welcomes a join; from then on the join
 *   token is never needed again, and the central's key stays pinned when the
 *   join was pinned.
 * - `desired.json`: the last desired snapshot, so containers adopted after a
 *   restart are supervised with their restart policy before the central's
 *   next snapshot arrives. It never drives removal.
 *
 * Every write goes to a temp file in the same dir, is fsynced, then renamed
 * over the old file, so a crash leaves either the old or the new content.
 */
import { randomBytes } from "node:crypto";
import { mkdir, open, readFile, rename, rm } from "node:fs/promises";
import { join } from "node:path";
import { ZHostId } from "@fleet/shared/domain/ids";
import type { TAgentAuth } from "@fleet/shared/protocol/agent-to-server";
import { type TDesiredFrame, ZDesiredFrame } from "@fleet/shared/protocol/server-to-agent";
import { ZServerPin } from "@fleet/shared/server-pin";
import { z } from "zod";

export const ZStoredCredential = z.object({
  serverUrl: z.string().min(1),
  hostId: ZHostId,
  credential: z.string().min(1).max(512),
  /** The pin the join was made under; later connections keep it. Absent in credentials from before pins. */
  serverPin: ZServerPin.nullable().default(null),
});
export type TStoredCredential = z.output<typeof ZStoredCredential>;

export class StateStoreError extends Error {
  override name = "StateStoreError";
}

export class StateStore {
  readonly credentialPath: string;
  readonly desiredPath: string;

  constructor(readonly dir: string) {
    this.credentialPath = join(dir, "credential.json");
    this.desiredPath = join(dir, "desired.json");
  }

  async loadCredential(): Promise<TStoredCredential | null> {
    const text = await readIfExists(this.credentialPath);
    if (text === null) return null;
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      throw new StateStoreError(
        `${this.credentialPath} is not valid JSON; remove it and join again with a join token`,
      );
    }
    const parsed = ZStoredCredential.safeParse(json);
    if (!parsed.success) {
      throw new StateStoreError(
        `${this.credentialPath} is not a Fleet host credential (${parsed.error.issues[0]?.message}); remove it and join again`,
      );
    }
    return parsed.data;
  }

  async saveCredential(credential: z.input<typeof ZStoredCredential>): Promise<void> {
    await this.writeAtomically(
      this.credentialPath,
      `${JSON.stringify(ZStoredCredential.parse(credential), null, 2)}\n`,
    );
  }

  /** The last snapshot, or null when there is none or it cannot be read (it is only a hint). */
  async loadDesired(): Promise<TDesiredFrame | null> {
    try {
      const text = await readIfExists(this.desiredPath);
      if (text === null) return null;
      const parsed = ZDesiredFrame.safeParse(JSON.parse(text));
      return parsed.success ? parsed.data : null;
    } catch {
      return null;
    }
  }

  async saveDesired(frame: TDesiredFrame): Promise<void> {
    await this.writeAtomically(this.desiredPath, JSON.stringify(frame));
  }

  private async writeAtomically(path: string, content: string): Promise<void> {
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    const temp = `${path}.${randomBytes(6).toString("hex")}.tmp`;
    try {
      const handle = await open(temp, "wx", 0o600);
      try {
        await handle.writeFile(content, "utf8");
        await handle.sync();
      } finally {
        await handle.close();
      }
      await rename(temp, path);
    } catch (error) {
      await rm(temp, { force: true });
      throw error;
    }
    // The rename is durable only once the directory entry is.
    const dirHandle = await open(this.dir, "r");
    try {
      await dirHandle.sync();
    } finally {
      await dirHandle.close();
    }
  }
}

async function readIfExists(path: string): Promise<string | null> {
  try {
    return await readFile(path, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw error;
  }
}

/**
 * How the agent introduces itself: its stored credential when it has one for
 * this server, else the join token. A credential stored for another server is
 * used only when no join token is given.
 */
export function chooseAuth(
  stored: TStoredCredential | null,
  config: { serverUrl: string; joinToken: string | null },
  statePath: string,
): { auth: TAgentAuth; warning: string | null } {
  const sameServer =
    stored !== null && normalizeServerUrl(stored.serverUrl) === normalizeServerUrl(config.serverUrl);
  if (stored && (sameServer || config.joinToken === null)) {
    return {
      auth: { kind: "credential", hostId: stored.hostId, credential: stored.credential },
      warning: sameServer
        ? null
        : `the stored credential was issued by ${stored.serverUrl}, not ${config.serverUrl}; trying it anyway`,
    };
  }
  if (config.joinToken !== null)
    return { auth: { kind: "join", joinToken: config.joinToken }, warning: null };
  throw new StateStoreError(
    `no host credential in ${statePath} and no join token: pass --join-token (or FLEET_JOIN_TOKEN) to join the fleet`,
  );
}

/**
 * The pin the next connection holds the central to: the one given now
 * (--server-pin), else the one stored with the credential in use, so a host
 * that joined pinned never falls back to trusting any certificate.
 */
export function chooseServerPin(
  stored: TStoredCredential | null,
  auth: TAgentAuth,
  config: { serverUrl: string; serverPin: string | null },
): string | null {
  const pin = config.serverPin ?? (auth.kind === "credential" ? (stored?.serverPin ?? null) : null);
  if (pin !== null && !/^(https|wss):/.test(config.serverUrl)) {
    throw new StateStoreError(
      `the host credential pins the central's key (${pin}), so --server must be its https:// agent URL, not ${config.serverUrl}`,
    );
  }
  return pin;
}

function normalizeServerUrl(url: string): string {
  try {
    const u = new URL(url);
    const scheme = u.protocol === "wss:" ? "https:" : u.protocol === "ws:" ? "http:" : u.protocol;
    return `${scheme}//${u.host}${u.pathname.replace(/\/+$/, "")}`;
  } catch {
    return url;
  }
}
