/**
 * Container images for tests, built locally through an engine's build API (no
 * registry on the internet is reachable): the busybox test image from Debian's
 * static busybox, and any small image a test describes with a Dockerfile.
 *
 * May import: node built-ins, ./engines.
 */
import { readFile } from "node:fs/promises";
import { Readable } from "node:stream";
import { followProgress, type TestEngine } from "./engines";

export const TEST_IMAGE_TAG = "fleet-test/busybox:latest";

/** Debian's busybox-static installs here; the dynamic `busybox` package would too, hence the check. */
const BUSYBOX_PATH = "/bin/busybox";

const TEST_IMAGE_DOCKERFILE = [
  "FROM scratch",
  "COPY busybox /bin/busybox",
  // Exec form: there is no shell in the image until busybox has made its applet links.
  'RUN ["/bin/busybox", "--install", "-s", "/bin"]',
  'CMD ["sh"]',
  "",
].join("\n");

export interface ImageFile {
  content: Buffer | string;
  /** Unix permission bits; 0o644 unless given. */
  mode?: number;
}

export interface ImageSpec {
  tag: string;
  dockerfile: string;
  /** Build context besides the Dockerfile, by relative path. */
  files?: Record<string, Buffer | string | ImageFile>;
  /** Build arguments (`ARG`). */
  buildArgs?: Record<string, string>;
}

// Builds are cached per engine object only, so each test run starts from a clean engine.
const testImageBuilds = new WeakMap<TestEngine, Map<string, Promise<string>>>();

/** Builds (once per engine and tag) the busybox test image; resolves to its image id. */
export function buildTestImage(engine: TestEngine, tag: string = TEST_IMAGE_TAG): Promise<string> {
  let builds = testImageBuilds.get(engine);
  if (!builds) {
    builds = new Map();
    testImageBuilds.set(engine, builds);
  }
  let build = builds.get(tag);
  if (!build) {
    build = buildBusyboxImage(engine, tag);
    builds.set(tag, build);
    build.catch(() => builds.delete(tag));
  }
  return build;
}

async function buildBusyboxImage(engine: TestEngine, tag: string): Promise<string> {
  const busybox = await readFile(BUSYBOX_PATH).catch((err: unknown) => {
    throw new Error(`${BUSYBOX_PATH} is missing: run scripts/install-host-deps (busybox-static)`, {
      cause: err,
    });
  });
  if (hasProgramInterpreter(busybox)) {
    throw new Error(
      `${BUSYBOX_PATH} is dynamically linked and cannot run in a FROM scratch image: install busybox-static`,
    );
  }
  return buildImage(engine, {
    tag,
    dockerfile: TEST_IMAGE_DOCKERFILE,
    files: { busybox: { content: busybox, mode: 0o755 } },
  });
}

/** Builds an image from an in-memory context; resolves to its image id. Build errors throw. */
export async function buildImage(engine: TestEngine, spec: ImageSpec): Promise<string> {
  const entries: TarEntry[] = [{ path: "Dockerfile", content: Buffer.from(spec.dockerfile), mode: 0o644 }];
  for (const [path, file] of Object.entries(spec.files ?? {})) {
    const described = typeof file === "string" || Buffer.isBuffer(file) ? { content: file } : file;
    entries.push({
      path,
      content: typeof described.content === "string" ? Buffer.from(described.content) : described.content,
      mode: described.mode ?? 0o644,
    });
  }
  const stream = await engine.docker.buildImage(Readable.from([tarArchive(entries)]), {
    t: spec.tag,
    rm: true,
    forcerm: true,
    buildargs: spec.buildArgs ?? {},
  });
  try {
    await followProgress(stream);
  } catch (err) {
    throw new Error(`building ${spec.tag} on ${engine.kind}: ${(err as Error).message}`, { cause: err });
  }
  const image = await engine.docker.getImage(spec.tag).inspect();
  return image.Id;
}

interface TarEntry {
  path: string;
  content: Buffer;
  mode: number;
}

/**
 * A ustar archive of regular files: all a build context needs, small enough to
 * write by hand instead of pulling in a tar library for the test workspace.
 */
export function tarArchive(entries: TarEntry[]): Buffer {
  const blocks: Buffer[] = [];
  for (const entry of entries) {
    if (Buffer.byteLength(entry.path) > 100) throw new Error(`tar path over 100 bytes: ${entry.path}`);
    const header = Buffer.alloc(512);
    header.write(entry.path, 0, 100, "utf8");
    writeOctal(header, 100, 8, entry.mode);
    writeOctal(header, 108, 8, 0); // uid
    writeOctal(header, 116, 8, 0); // gid
    writeOctal(header, 124, 12, entry.content.length);
    writeOctal(header, 136, 12, 0); // mtime: fixed, so equal contexts give equal archives
    header.fill(" ", 148, 156); // checksum is computed with its own field as spaces
    header.write("0", 156, 1, "ascii"); // regular file
    header.write("ustar\u000000", 257, 8, "ascii");
    let checksum = 0;
    for (const byte of header) checksum += byte;
    header.write(`${checksum.toString(8).padStart(6, "0")}\u0000 `, 148, 8, "ascii");
    blocks.push(header, entry.content);
    const padding = (512 - (entry.content.length % 512)) % 512;
    if (padding > 0) blocks.push(Buffer.alloc(padding));
  }
  blocks.push(Buffer.alloc(1024)); // two zero blocks end the archive
  return Buffer.concat(blocks);
}

function writeOctal(header: Buffer, offset: number, width: number, value: number): void {
  header.write(`${value.toString(8).padStart(width - 1, "0")}\u0000`, offset, width, "ascii");
}

/** True for an ELF file with a PT_INTERP program header, i.e. one that needs a dynamic loader. */
function hasProgramInterpreter(elf: Buffer): boolean {
  if (elf.length < 64 || elf.readUInt32BE(0) !== 0x7f454c46) return false;
  const is64 = elf[4] === 2;
  const littleEndian = elf[5] === 1;
  const u16 = (at: number) => (littleEndian ? elf.readUInt16LE(at) : elf.readUInt16BE(at));
  const u32 = (at: number) => (littleEndian ? elf.readUInt32LE(at) : elf.readUInt32BE(at));
  const u64 = (at: number) => Number(littleEndian ? elf.readBigUInt64LE(at) : elf.readBigUInt64BE(at));
  const programHeaders = is64 ? u64(32) : u32(28);
  const entrySize = u16(is64 ? 54 : 42);
  const count = u16(is64 ? 56 : 44);
  const PT_INTERP = 3;
  for (let i = 0; i < count; i++) {
    const at = programHeaders + i * entrySize;
    if (at + 4 <= elf.length && u32(at) === PT_INTERP) return true;
  }
  return false;
}
