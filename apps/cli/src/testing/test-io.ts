// An in-process stand-in for the process's io, for unit tests of commands:
// captured stdout and stderr, a chosen environment, a fixed clock.
import { Readable } from "node:stream";
import type { CliIo, TInput } from "../io";

export interface TestIo extends CliIo {
  out(): string;
  err(): string;
  abort(): void;
}

export function createTestIo(
  options: { env?: Record<string, string>; stdin?: string; now?: number } = {},
): TestIo {
  let out = "";
  let err = "";
  const controller = new AbortController();
  return {
    stdout: { write: (text: string) => (out += text), isTTY: false },
    stderr: { write: (text: string) => (err += text), isTTY: false },
    stdin: Readable.from([Buffer.from(options.stdin ?? "")]) as TInput,
    env: { ...options.env },
    signal: controller.signal,
    now: () => options.now ?? Date.UTC(2026, 0, 1),
    hostname: () => "test-machine",
    out: () => out,
    err: () => err,
    abort: () => controller.abort(),
  };
}
