import { EventEmitter } from "node:events";
import { constants, readSync } from "node:fs";
import type { FileHandle } from "node:fs/promises";
import { open } from "node:fs/promises";
import { errnoCode } from "./errors";

// Learns of OOM kills from the kernel log, as cAdvisor's oomparser does: the
// engines delete a container's cgroup (and its oom_kill counter) when it exits,
// and Podman 4 never reports OOMKilled, but the kernel log keeps naming the memcg.

/** One /dev/kmsg record: `priority,sequence,timestamp_us,flags[,...];message`. */
export type TKmsgRecord = {
  level: number;
  facility: number;
  seq: number;
  /** Microseconds since boot on the kernel's monotonic clock. */
  monotonicUs: number;
  message: string;
};

export function parseKmsgRecord(line: string): TKmsgRecord | null {
  const semicolon = line.indexOf(";");
  if (semicolon < 0) return null;
  const [priority, seq, timestamp] = line.slice(0, semicolon).split(",");
  const prefix = Number(priority);
  if (!Number.isInteger(prefix) || seq === undefined || timestamp === undefined) return null;
  return {
    level: prefix & 7,
    facility: prefix >> 3,
    seq: Number(seq),
    monotonicUs: Number(timestamp),
    // The kernel escapes non-printable bytes (newlines included) as \xHH.
    message: line
      .slice(semicolon + 1)
      .replace(/\\x([0-9a-f]{2})/gi, (_, hex: string) => String.fromCharCode(Number.parseInt(hex, 16))),
  };
}

export type TOomKillLine = {
  constraint: string;
  /** The memcg whose limit was hit; null for a global (whole-host) OOM. */
  oomMemcg: string | null;
  /** The memcg of the killed task. */
  taskMemcg: string;
  task: string;
  pid: number;
  uid: number;
};

// Linux ≥ 4.19 (mm/oom_kill.c dump_oom_summary). nodemask and mems_allowed are
// cpu lists that may hold commas, hence the lazy groups anchored on the next key.
const OOM_KILL_LINE =
  /oom-kill:constraint=([^,]*),nodemask=(.*?),cpuset=(.*?),mems_allowed=(.*?),(?:oom_memcg=(.*?)|global_oom),task_memcg=(.*?),task=(.*),pid=(\d+),uid=(\d+)/;

export function parseOomKillLine(message: string): TOomKillLine | null {
  const match = OOM_KILL_LINE.exec(message);
  if (match === null) return null;
  return {
    constraint: match[1]!,
    oomMemcg: match[5] ?? null,
    taskMemcg: match[6]!,
    task: match[7]!,
    pid: Number(match[8]),
    uid: Number(match[9]),
  };
}

// "Killed process 14921 (perl) total-vm:73428kB, ..." possibly prefixed by
// "Memory cgroup out of memory: " or "Out of memory: ". The name may itself hold
// parentheses and spaces, so it runs to the last ")" before " total-vm:" or the end.
const KILLED_PROCESS_LINE = /Killed process (\d+) \((.*)\)(?=,? total-vm:|\s*$)/;

export function parseKilledProcessLine(message: string): { pid: number; comm: string } | null {
  const match = KILLED_PROCESS_LINE.exec(message);
  return match === null ? null : { pid: Number(match[1]), comm: match[2]! };
}

// Kernels before 4.19 named the memcgs on a line of their own.
const LEGACY_TASK_IN_LINE = /Task in (.*) killed as a result of limit of (.*)/;

export function parseLegacyTaskInLine(message: string): { taskMemcg: string; oomMemcg: string } | null {
  const match = LEGACY_TASK_IN_LINE.exec(message);
  return match === null ? null : { taskMemcg: match[1]!.trim(), oomMemcg: match[2]!.trim() };
}

export type TOomEvent = {
  /** The memcg of the killed process, relative to the cgroup root ("/docker/<id>"). */
  memcgPath: string;
  /** The memcg whose limit was hit (a parent of memcgPath, or itself); null for a host-wide OOM. */
  oomMemcgPath: string | null;
  pid: number;
  comm: string;
  /** Milliseconds since the epoch. */
  ts: number;
};

/**
 * Turns kernel log messages, in order, into OOM events. One OOM kill spans many
 * records; it is reported once: at the `oom-kill:` summary on current kernels,
 * at the "Killed process" line on kernels that do not print the summary.
 */
export class OomRecordAssembler {
  #legacy: { taskMemcg: string; oomMemcg: string } | undefined;
  #lastReportedPid: number | undefined;

  push(message: string, ts: number): TOomEvent | null {
    const summary = parseOomKillLine(message);
    if (summary !== null) {
      this.#legacy = undefined;
      this.#lastReportedPid = summary.pid;
      return {
        memcgPath: summary.taskMemcg,
        oomMemcgPath: summary.oomMemcg,
        pid: summary.pid,
        comm: summary.task,
        ts,
      };
    }
    const legacy = parseLegacyTaskInLine(message);
    if (legacy !== null) {
      this.#legacy = legacy;
      return null;
    }
    const killed = parseKilledProcessLine(message);
    if (killed === null) return null;
    if (killed.pid === this.#lastReportedPid) {
      this.#lastReportedPid = undefined;
      return null;
    }
    const memcgs = this.#legacy;
    this.#legacy = undefined;
    return {
      // Without a memcg line this was a host-wide OOM on an old kernel.
      memcgPath: memcgs?.taskMemcg ?? "/",
      oomMemcgPath: memcgs?.oomMemcg ?? null,
      pid: killed.pid,
      comm: killed.comm,
      ts,
    };
  }
}

const ENGINE_ID = /^[0-9a-f]{64}$/;
const SCOPED_ID = /^(?:docker|libpod|crio|cri-containerd)-([0-9a-f]{64})(?:\.scope)?$/;

/**
 * The engine's container id named by a memcg path: `/docker/<id>`,
 * `<cgroup-parent>/<id>`, `libpod_parent/libpod-<id>`,
 * `system.slice/docker-<id>.scope`. The innermost id wins, so a process in a
 * sub-cgroup of a container still maps to it. Podman's conmon lives in
 * `libpod-conmon-<id>`, which is not the container.
 */
export function engineIdFromMemcgPath(memcgPath: string): string | null {
  const segments = memcgPath.split("/").filter((segment) => segment !== "");
  for (let index = segments.length - 1; index >= 0; index -= 1) {
    const segment = segments[index]!;
    if (ENGINE_ID.test(segment)) return segment;
    const scoped = SCOPED_ID.exec(segment);
    if (scoped !== null) return scoped[1]!;
  }
  return null;
}

export type TWarnLogger = { warn: (details: object, message: string) => void };

export type TOomWatcherOptions = {
  devicePath?: string;
  /** How often to look for new records once the log has been read to its end. */
  pollIntervalMs?: number;
  /** Skip what the log already holds and report only OOM kills from now on (the default). */
  startAtEnd?: boolean;
  /** Wall-clock time of boot in ms; by default derived from the monotonic clock. */
  bootTimeMs?: number;
  logger?: TWarnLogger;
};

type TOomWatcherEvents = { oom: [TOomEvent]; unavailable: [Error] };

// Large enough for any record: the kernel answers EINVAL to a shorter buffer.
const RECORD_BUFFER_BYTES = 16 * 1024;

const consoleLogger: TWarnLogger = {
  warn: (details, message) => console.warn(message, details),
};

/**
 * Follows /dev/kmsg and emits "oom" for every OOM kill. The device is opened
 * non-blocking and read until EAGAIN, then polled, so no thread of libuv's pool
 * is held in a blocking read. When the device cannot be read (no CAP_SYSLOG,
 * no /dev/kmsg in a container) it warns once, emits "unavailable" and stays idle.
 */
export class OomWatcher extends EventEmitter<TOomWatcherEvents> {
  readonly #devicePath: string;
  readonly #pollIntervalMs: number;
  readonly #startAtEnd: boolean;
  readonly #bootTimeMs: number;
  readonly #logger: TWarnLogger;
  readonly #assembler = new OomRecordAssembler();
  readonly #buffer = Buffer.alloc(RECORD_BUFFER_BYTES);
  #handle: FileHandle | undefined;
  #timer: NodeJS.Timeout | undefined;
  #reading: Promise<void> | undefined;
  #partialLine = "";
  #stopped = false;
  #warned = false;

  constructor(options: TOomWatcherOptions = {}) {
    super();
    this.#devicePath = options.devicePath ?? "/dev/kmsg";
    this.#pollIntervalMs = options.pollIntervalMs ?? 500;
    this.#startAtEnd = options.startAtEnd ?? true;
    this.#bootTimeMs = options.bootTimeMs ?? Date.now() - Number(process.hrtime.bigint() / 1_000_000n);
    this.#logger = options.logger ?? consoleLogger;
  }

  get running(): boolean {
    return this.#handle !== undefined && !this.#stopped;
  }

  /** Resolves true once the log is being followed, false if it cannot be read. */
  async start(): Promise<boolean> {
    if (this.#handle !== undefined) return !this.#stopped;
    this.#stopped = false;
    try {
      this.#handle = await open(this.#devicePath, constants.O_RDONLY | constants.O_NONBLOCK);
    } catch (error) {
      this.#giveUp(error, "cannot open the kernel log; OOM kills will be known only from cgroup counters");
      return false;
    }
    if (this.#startAtEnd) this.#skipToEnd(this.#handle.fd);
    this.#reading = this.#readAvailable();
    await this.#reading;
    return !this.#stopped;
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    await this.#reading;
    const handle = this.#handle;
    this.#handle = undefined;
    await handle?.close();
  }

  // /dev/kmsg starts a new reader at the oldest record still buffered; reading
  // until EAGAIN positions it after the newest, like go-kmsg-parser's SEEK_END.
  #skipToEnd(fd: number): void {
    for (;;) {
      try {
        if (readSync(fd, this.#buffer, 0, this.#buffer.length, null) === 0) return;
      } catch (error) {
        const code = errnoCode(error);
        if (code === "EPIPE") continue;
        if (code !== "EAGAIN") this.#giveUp(error, "cannot read the kernel log");
        return;
      }
    }
  }

  async #readAvailable(): Promise<void> {
    const handle = this.#handle;
    while (handle !== undefined && !this.#stopped) {
      let bytesRead: number;
      try {
        ({ bytesRead } = await handle.read(this.#buffer, 0, this.#buffer.length, null));
      } catch (error) {
        const code = errnoCode(error);
        // EPIPE: records were overwritten before we read them; the next read resumes.
        if (code === "EPIPE") continue;
        if (code === "EAGAIN") break;
        this.#giveUp(error, "cannot read the kernel log");
        return;
      }
      // 0 is end of file on a regular file (used in tests); /dev/kmsg says EAGAIN.
      if (bytesRead === 0) break;
      this.#consume(this.#buffer.toString("utf8", 0, bytesRead));
    }
    if (!this.#stopped) {
      this.#timer = setTimeout(() => {
        this.#reading = this.#readAvailable();
      }, this.#pollIntervalMs);
      this.#timer.unref();
    }
  }

  #consume(chunk: string): void {
    const lines = (this.#partialLine + chunk).split("\n");
    this.#partialLine = lines.pop() ?? "";
    for (const line of lines) {
      // Lines that start with a space are the record's key=value dictionary.
      if (line === "" || line.startsWith(" ")) continue;
      const record = parseKmsgRecord(line);
      if (record === null) continue;
      const event = this.#assembler.push(
        record.message,
        Math.round(this.#bootTimeMs + record.monotonicUs / 1000),
      );
      if (event !== null) this.emit("oom", event);
    }
  }

  #giveUp(error: unknown, message: string): void {
    this.#stopped = true;
    const handle = this.#handle;
    this.#handle = undefined;
    handle?.close().catch(() => {});
    const cause = error instanceof Error ? error : new Error(String(error));
    if (!this.#warned) {
      this.#warned = true;
      this.#logger.warn({ devicePath: this.#devicePath, err: cause }, message);
    }
    if (this.listenerCount("unavailable") > 0) this.emit("unavailable", cause);
  }
}
