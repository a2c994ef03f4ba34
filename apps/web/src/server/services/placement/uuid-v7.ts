// Row ids made here rather than by Prisma when rows are inserted with raw SQL
// in bulk: the same UUIDv7 as the schema's @default(uuid(7)) (48-bit Unix
// milliseconds, version 7, variant, random bits), so they sort by creation
// time with the rows Prisma creates.
import { randomBytes } from "node:crypto";

export function uuidV7(nowMs = Date.now()): string {
  const bytes = randomBytes(16);
  bytes.writeUIntBE(nowMs, 0, 6);
  bytes[6] = (bytes[6]! & 0x0f) | 0x70;
  bytes[8] = (bytes[8]! & 0x3f) | 0x80;
  const hex = bytes.toString("hex");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
