// What a command may touch of its process, passed in so tests can run
// commands in-process with captured output and a chosen environment. Only
// main.ts builds the real one from `process`.
import type { Readable } from "node:stream";
import type { TEnvVars } from "./config";

export interface TOutput {
  write(text: string): unknown;
  isTTY?: boolean | undefined;
  columns?: number | undefined;
}

export interface TInput extends Readable {
  isTTY?: boolean | undefined;
  setRawMode?: ((mode: boolean) => unknown) | undefined;
}

export interface CliIo {
  stdout: TOutput;
  stderr: TOutput;
  stdin: TInput;
  env: TEnvVars;
  /** Aborted when the person presses Ctrl-C (or the process gets SIGTERM). */
  signal: AbortSignal;
  now(): number;
  hostname(): string;
}

/** Writes a line (newline added) to an output. */
export function println(out: TOutput, text = ""): void {
  out.write(`${text}\n`);
}
