// Asking a person for something on the terminal (the password without
// echo), or reading it from stdin when a script pipes it in.
import { CliError, EXIT } from "./cli-error";
import type { TInput, TOutput } from "./io";

/** All of stdin, split into lines (for `printf 'me@x\npw\n' | fleet login URL`). */
export async function readStdinLines(stdin: TInput): Promise<string[]> {
  const chunks: Buffer[] = [];
  for await (const chunk of stdin) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk)));
  const text = Buffer.concat(chunks).toString("utf8");
  const lines = text.split(/\r?\n/);
  if (lines.at(-1) === "") lines.pop();
  return lines;
}

/**
 * Reads one line from a terminal in raw mode. `echo: false` shows nothing
 * (passwords); Ctrl-C ends the command (exit 130), Ctrl-D ends the line.
 */
export function promptLine(options: {
  stdin: TInput;
  prompt: TOutput;
  question: string;
  echo: boolean;
}): Promise<string> {
  const { stdin, prompt, question, echo } = options;
  prompt.write(question);
  return new Promise<string>((resolve, reject) => {
    let line = "";
    const wasRaw = (stdin as { isRaw?: boolean }).isRaw ?? false;
    stdin.setRawMode?.(true);
    stdin.resume();
    const finish = (error: Error | null) => {
      stdin.off("data", onData);
      stdin.setRawMode?.(wasRaw);
      stdin.pause();
      prompt.write("\n");
      if (error) reject(error);
      else resolve(line);
    };
    const onData = (chunk: Buffer | string) => {
      for (const char of String(chunk)) {
        if (char === "\u0003") return finish(new CliError("cancelled", EXIT.interrupted));
        if (char === "\r" || char === "\n" || char === "\u0004") return finish(null);
        if (char === "\u007f" || char === "\b") {
          if (line.length > 0) {
            line = line.slice(0, -1);
            if (echo) prompt.write("\b \b");
          }
          continue;
        }
        if (char < " ") continue;
        line += char;
        if (echo) prompt.write(char);
      }
    };
    stdin.on("data", onData);
  });
}
