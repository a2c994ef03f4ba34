// What the person picked as a build context → the bytes to upload. The
// engine's build API takes a tar (plain or compressed); a lone Dockerfile is
// wrapped into a one-file tar here. Decided by content, not by file name.
import { tarArchive } from "./tar-writer";

export type TContextKind = "tar" | "gzip" | "bzip2" | "xz" | "dockerfile";

export interface TBuildContext {
  kind: TContextKind;
  bytes: Uint8Array;
}

function startsWith(bytes: Uint8Array, magic: number[]): boolean {
  return magic.every((byte, index) => bytes[index] === byte);
}

function isUstar(bytes: Uint8Array): boolean {
  // "ustar" at 257: POSIX ustar and GNU tar both write it.
  return bytes.length >= 512 && startsWith(bytes.subarray(257), [0x75, 0x73, 0x74, 0x61, 0x72]);
}

export function contextKindOf(bytes: Uint8Array): TContextKind {
  if (startsWith(bytes, [0x1f, 0x8b])) return "gzip";
  if (startsWith(bytes, [0x42, 0x5a, 0x68])) return "bzip2";
  if (startsWith(bytes, [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00])) return "xz";
  if (isUstar(bytes)) return "tar";
  return "dockerfile";
}

/** Text a Dockerfile could be: no NUL bytes in what was read. */
function looksLikeText(bytes: Uint8Array): boolean {
  return !bytes.subarray(0, 8192).includes(0);
}

/**
 * The upload for `bytes`; a Dockerfile becomes `<dockerfilePath>` in a tar.
 * Throws with a message for people when the file is neither.
 */
export function buildContextOf(bytes: Uint8Array, dockerfilePath = "Dockerfile"): TBuildContext {
  if (bytes.length === 0) throw new Error("the file is empty");
  const kind = contextKindOf(bytes);
  if (kind !== "dockerfile") return { kind, bytes };
  if (!looksLikeText(bytes)) {
    throw new Error("the file is neither a tar archive (.tar, .tar.gz) nor a Dockerfile");
  }
  return { kind, bytes: tarArchive([{ path: dockerfilePath, content: bytes }]) };
}
