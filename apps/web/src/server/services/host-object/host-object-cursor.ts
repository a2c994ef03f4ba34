// The cursor of volume and network pages: the last row's (host name, name, id),
// matching their order. Stable while rows come and go, unlike offsets.
import { AppError } from "../../errors";

export interface THostObjectCursor {
  hostName: string;
  name: string;
  id: string;
}

export function encodeHostObjectCursor(cursor: THostObjectCursor): string {
  return Buffer.from(JSON.stringify([cursor.hostName, cursor.name, cursor.id]), "utf8").toString("base64url");
}

export function decodeHostObjectCursor(cursor: string): THostObjectCursor {
  const fail = () => new AppError("BAD_REQUEST", "cursor: not a cursor this API handed out");
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8"));
  } catch {
    throw fail();
  }
  if (!Array.isArray(parsed) || parsed.length !== 3 || !parsed.every((part) => typeof part === "string")) {
    throw fail();
  }
  const [hostName, name, id] = parsed as [string, string, string];
  if (encodeHostObjectCursor({ hostName, name, id }) !== cursor || /\0/.test(hostName + name + id))
    throw fail();
  return { hostName, name, id };
}

/** Rows after the cursor in (host name, name, id) order, as a Prisma where for volumes or networks. */
export function afterHostObjectCursor(cursor: THostObjectCursor) {
  return {
    OR: [
      { host: { name: { gt: cursor.hostName } } },
      { host: { name: cursor.hostName }, name: { gt: cursor.name } },
      { host: { name: cursor.hostName }, name: cursor.name, id: { gt: cursor.id } },
    ],
  };
}
