// A ustar archive of regular files, written in the browser: enough to turn a
// lone Dockerfile into the build context the engine's build API wants
// (a tar), without a library for twenty lines of format.

export interface TTarEntry {
  /** At most 100 bytes (no ustar prefix field needed for build contexts). */
  path: string;
  content: Uint8Array;
  /** Permission bits, e.g. 0o644. */
  mode?: number;
  /** Seconds since the epoch; fixed by default so equal contents give equal archives. */
  mtime?: number;
}

const BLOCK = 512;
const encoder = new TextEncoder();

function writeText(header: Uint8Array, offset: number, width: number, text: string): void {
  const bytes = encoder.encode(text);
  if (bytes.length > width) throw new Error(`"${text}" does not fit a ${width}-byte tar field`);
  header.set(bytes, offset);
}

// Numeric fields are octal digits ending in NUL, as every tar reader accepts.
function writeOctal(header: Uint8Array, offset: number, width: number, value: number): void {
  writeText(header, offset, width, `${value.toString(8).padStart(width - 1, "0")}\0`);
}

export function tarArchive(entries: TTarEntry[]): Uint8Array {
  let size = 2 * BLOCK; // two zero blocks end the archive
  for (const entry of entries) size += BLOCK + Math.ceil(entry.content.length / BLOCK) * BLOCK;
  const archive = new Uint8Array(size);
  let offset = 0;
  for (const entry of entries) {
    if (encoder.encode(entry.path).length > 100) throw new Error(`tar path over 100 bytes: ${entry.path}`);
    const header = archive.subarray(offset, offset + BLOCK);
    writeText(header, 0, 100, entry.path);
    writeOctal(header, 100, 8, entry.mode ?? 0o644);
    writeOctal(header, 108, 8, 0); // uid
    writeOctal(header, 116, 8, 0); // gid
    writeOctal(header, 124, 12, entry.content.length);
    writeOctal(header, 136, 12, entry.mtime ?? 0);
    header.fill(0x20, 148, 156); // the checksum is summed with its own field as spaces
    writeText(header, 156, 1, "0"); // regular file
    writeText(header, 257, 8, "ustar\u000000");
    let checksum = 0;
    for (const byte of header) checksum += byte;
    writeText(header, 148, 8, `${checksum.toString(8).padStart(6, "0")}\0 `);
    archive.set(entry.content, offset + BLOCK);
    offset += BLOCK + Math.ceil(entry.content.length / BLOCK) * BLOCK;
  }
  return archive;
}
