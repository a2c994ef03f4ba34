import { close, open, read } from "node:fs";
import { stat } from "node:fs/promises";
import { join } from "node:path";
import { CgroupGoneError, errnoCode } from "../errors";

const FIRST_READ_BYTES = 8192;

/**
 * Reads a small kernel-generated file (cgroupfs, procfs) whole, with one open,
 * as few reads as possible and a close that is not waited for: a sweep reads
 * hundreds of these, and each round trip through libuv's thread pool costs more
 * than the kernel takes to produce the text (fs.promises.readFile makes four+).
 *
 * `shortReadIsEnd`: the file is produced by one seq_file record, as every cgroup
 * interface file the readers use is (kernfs calls the controller's show() once),
 * or is a regular file; then a read that does not fill the buffer has returned
 * everything. Multi-record files (/proc/<pid>/net/dev, mountinfo) can stop short
 * of a record that did not fit, so those are read until the kernel returns 0.
 */
export function readKernelFile(path: string, options: { shortReadIsEnd?: boolean } = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    open(path, "r", (openError, fd) => {
      if (openError) {
        reject(openError);
        return;
      }
      const chunks: Buffer[] = [];
      const finish = (error: Error | null) => {
        close(fd, () => {});
        if (error) reject(error);
        else resolve(Buffer.concat(chunks).toString("utf8"));
      };
      const readMore = (size: number) => {
        const buffer = Buffer.allocUnsafe(size);
        // position null: carry on from where the previous read of this fd stopped.
        read(fd, buffer, 0, size, null, (readError, bytesRead) => {
          if (readError) {
            finish(readError);
            return;
          }
          if (bytesRead === 0) {
            finish(null);
            return;
          }
          chunks.push(buffer.subarray(0, bytesRead));
          if (options.shortReadIsEnd && bytesRead < size) finish(null);
          else readMore(size * 2);
        });
      };
      readMore(FIRST_READ_BYTES);
    });
  });
}

/**
 * Reads several files of one cgroup directory in parallel. A file that does not
 * exist (controller not enabled, older kernel) comes back as null; if the
 * directory itself is gone the whole read fails with CgroupGoneError. A null
 * directory (controller not mounted at all) yields nulls without touching the disk.
 */
export async function readCgroupFiles<const TName extends string>(
  dir: string | null,
  names: readonly TName[],
): Promise<Record<TName, string | null>> {
  const result = {} as Record<TName, string | null>;
  if (dir === null) {
    for (const name of names) result[name] = null;
    return result;
  }
  let missing = false;
  await Promise.all(
    names.map(async (name) => {
      try {
        result[name] = await readKernelFile(join(dir, name), { shortReadIsEnd: true });
      } catch (error) {
        const code = errnoCode(error);
        // ENODEV: the file was opened, then the cgroup was removed under us.
        if (code === "ENODEV") throw new CgroupGoneError(dir);
        if (code !== "ENOENT") throw error;
        result[name] = null;
        missing = true;
      }
    }),
  );
  if (missing) await assertDirectoryExists(dir);
  return result;
}

async function assertDirectoryExists(dir: string): Promise<void> {
  try {
    await stat(dir);
  } catch (error) {
    if (errnoCode(error) === "ENOENT") throw new CgroupGoneError(dir);
    throw error;
  }
}

/** "key value" lines (cpu.stat, memory.stat, memory.events, memory.oom_control). */
export function parseFlatKeyed(text: string | null): Map<string, string> {
  const values = new Map<string, string>();
  if (text === null) return values;
  for (const line of text.split("\n")) {
    const space = line.indexOf(" ");
    if (space <= 0) continue;
    values.set(line.slice(0, space), line.slice(space + 1).trim());
  }
  return values;
}

/**
 * A cumulative counter or gauge. Missing or unparsable → 0. Kernel counters are
 * u64; past 2^53 (104 days of CPU time in ns) the nearest double is kept rather
 * than a clamp: it stays monotonic, so rates computed from it stay right, where
 * a clamped counter would freeze and read as idle.
 */
export function toCounter(text: string | null | undefined): number {
  if (text === null || text === undefined) return 0;
  const value = Number(text.trim());
  if (!Number.isFinite(value) || value < 0) return 0;
  return value;
}

/**
 * A limit, or null when there is none: v2 writes "max", v1 writes -1 (CFS quota)
 * or PAGE_COUNTER_MAX * PAGE_SIZE (9223372036854771712 on x86_64) for memory.
 * No real limit reaches 2^53 bytes (8 PiB), so anything past that means "none".
 */
export function toLimit(text: string | null | undefined): number | null {
  if (text === null || text === undefined) return null;
  const trimmed = text.trim();
  if (trimmed === "" || trimmed === "max") return null;
  const value = Number(trimmed);
  if (!Number.isFinite(value) || value < 0 || value > Number.MAX_SAFE_INTEGER) return null;
  return value;
}
