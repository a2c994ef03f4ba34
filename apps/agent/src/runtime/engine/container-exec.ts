/**
 * `ContainerDriver.exec` over the engine's exec API: create, start attached
 * (the multiplexed stdout/stderr stream ends when the process does), then the
 * exit code from the exec's inspect. Docker and Podman agree on all of it
 * except how a stopped container refuses (Docker 409, Podman 500 "container
 * state improper") and a missing program's exit code (Docker 126, Podman 127).
 *
 * Neither engine stops an exec when its client goes away (Docker's own health
 * checks leave timed-out processes running), so at the timeout or abort the
 * agent kills the exec's process and its descendants itself, by the host pid
 * the exec's inspect reports on both engines (the agent runs on the host as
 * root, in the host's pid namespace).
 */
import { readdir, readFile } from "node:fs/promises";
import type { Duplex } from "node:stream";
import type Docker from "dockerode";
import type { ExecOptions, ExecResult } from "../container-driver";
import { EngineError, engineMessageOf, statusCodeOf, toEngineError } from "./engine-error";
import { LogStreamDecoder } from "./log-decoder";

/** After the stream ends the engine may take a moment to record the exit code. */
const EXIT_CODE_POLLS = 20;
const EXIT_CODE_POLL_MS = 25;

export async function execInContainer(
  docker: Docker,
  engineId: string,
  opts: ExecOptions,
  signal?: AbortSignal,
): Promise<ExecResult> {
  const action = `exec in ${engineId.slice(0, 12)}`;
  signal?.throwIfAborted();
  let exec: Docker.Exec;
  let stream: Duplex;
  try {
    exec = await docker.getContainer(engineId).exec({
      Cmd: opts.command,
      AttachStdin: false,
      AttachStdout: true,
      AttachStderr: true,
      Tty: false,
    });
    stream = (await exec.start({ hijack: true, stdin: false })) as Duplex;
  } catch (err) {
    throw execError(err, action);
  }

  const output = new CappedOutput(opts.maxOutputBytes);
  const decoder = new LogStreamDecoder({
    multiplexed: true,
    timestamps: false,
    maxLineBytes: opts.maxOutputBytes,
  });
  stream.on("data", (chunk: Buffer) => output.add(decoder.push(chunk)));
  let timer: NodeJS.Timeout | undefined;
  let onAbort: (() => void) | undefined;
  const why = await new Promise<"ended" | "timeout" | "aborted">((resolve) => {
    // A reset stream (the engine went away) ends the wait like a normal end; the inspect then tells.
    stream.once("end", () => resolve("ended"));
    stream.once("close", () => resolve("ended"));
    stream.once("error", () => resolve("ended"));
    timer = setTimeout(() => resolve("timeout"), opts.timeoutMs);
    onAbort = () => resolve("aborted");
    if (signal?.aborted) onAbort();
    else signal?.addEventListener("abort", onAbort, { once: true });
  });
  clearTimeout(timer);
  if (onAbort) signal?.removeEventListener("abort", onAbort);

  if (why === "ended") {
    output.add(decoder.end());
    const exitCode = await exitCodeOf(exec, action);
    return { exitCode, timedOut: false, output: output.text(), truncated: output.truncated };
  }
  const info = await exec.inspect().catch(() => null);
  stream.destroy();
  if (info?.Running && info.Pid > 0) await killProcessTree(info.Pid);
  if (why === "aborted") throw signal?.reason;
  // Ended in time, but a process it left behind still held its output open.
  if (info && !info.Running && info.ExitCode !== null) {
    return { exitCode: info.ExitCode, timedOut: false, output: output.text(), truncated: output.truncated };
  }
  return { exitCode: null, timedOut: true, output: output.text(), truncated: output.truncated };
}

async function exitCodeOf(exec: Docker.Exec, action: string): Promise<number> {
  for (let poll = 0; ; poll++) {
    let info: Docker.ExecInspectInfo;
    try {
      info = await exec.inspect();
    } catch (err) {
      throw toEngineError(err, action);
    }
    if (!info.Running && info.ExitCode !== null) return info.ExitCode;
    if (poll >= EXIT_CODE_POLLS) {
      throw new EngineError(
        "engine",
        `${action} failed: the engine reports no exit code after the output ended`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, EXIT_CODE_POLL_MS));
  }
}

function execError(err: unknown, action: string): Error {
  const status = statusCodeOf(err);
  // Docker: 409 "container … is not running"; Podman: 500 "can only create exec sessions on running containers".
  if (status === 409 || (status === 500 && /state improper|not running/i.test(engineMessageOf(err)))) {
    return new EngineError("conflict", `${action} failed: ${engineMessageOf(err)}`, { statusCode: status });
  }
  return toEngineError(err, action);
}

/** Lines of output up to a byte budget; the rest is counted out, never kept. */
class CappedOutput {
  private readonly lines: string[] = [];
  private bytes = 0;
  truncated = false;

  constructor(private readonly maxBytes: number) {}

  add(lines: ReadonlyArray<{ line: string; truncated?: boolean }>): void {
    for (const { line, truncated } of lines) {
      if (truncated) this.truncated = true;
      const size = Buffer.byteLength(line) + 1;
      if (this.bytes + size > this.maxBytes) {
        this.truncated = true;
        continue;
      }
      this.bytes += size;
      this.lines.push(line);
    }
  }

  text(): string {
    return this.lines.join("\n");
  }
}

/** SIGKILLs a process and everything below it; processes that are already gone are skipped. */
async function killProcessTree(rootPid: number): Promise<void> {
  const children = new Map<number, number[]>();
  for (const entry of await readdir("/proc").catch(() => [] as string[])) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = await readFile(`/proc/${entry}/stat`, "utf8").catch(() => null);
    // The command name may hold spaces and parentheses; the fields after its last ")" are fixed.
    const ppid = stat ? Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]) : Number.NaN;
    if (!Number.isInteger(ppid)) continue;
    const list = children.get(ppid) ?? [];
    list.push(Number(entry));
    children.set(ppid, list);
  }
  const doomed: number[] = [];
  const queue = [rootPid];
  while (queue.length > 0) {
    const pid = queue.shift() as number;
    doomed.push(pid);
    queue.push(...(children.get(pid) ?? []));
  }
  for (const pid of doomed) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // Already gone.
    }
  }
}
