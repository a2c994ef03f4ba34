// `fleet logs`: a container's output, fetched from its host's agent. With
// -f it follows over SSE until Ctrl-C or until the stream ends (the
// container was removed, or its host went away). Lines the container wrote
// to stderr go to stderr, as docker does.
import { MAX_LOG_TAIL } from "@fleet/shared/protocol/operations";
import { integerFlag } from "../args";
import { EXIT } from "../cli-error";
import { subscriptionStream, untracked } from "../client";
import { defineCommand } from "../command";
import { type CliIo, println } from "../io";
import { resolveContainer } from "../resolve";

/** A dropped follow reconnects and resumes after the last line; this long without it, we give up. */
const FOLLOW_RECONNECT_GRACE_MS = 30_000;

interface TLogLine {
  stream: "stdout" | "stderr";
  line: string;
  ts: Date | null;
}

function printLine(io: CliIo, line: TLogLine, timestamps: boolean): void {
  const prefix = timestamps ? `${line.ts ? line.ts.toISOString() : "-"} ` : "";
  println(line.stream === "stderr" ? io.stderr : io.stdout, `${prefix}${line.line}`);
}

export function parseTail(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (value.trim() === "all") return MAX_LOG_TAIL;
  return integerFlag(value, "--tail", "logs", { min: 0, max: MAX_LOG_TAIL });
}

export const logsCommand = defineCommand({
  spec: {
    name: "logs",
    summary: "Show a container's output",
    usage: "[OPTIONS] CONTAINER",
    details: [
      `CONTAINER is a name or id. Without --tail the last 200 lines (100 with -f); "all" is the last ${MAX_LOG_TAIL}.`,
    ],
    options: {
      follow: { type: "boolean", short: "f", description: "Keep printing new output until Ctrl-C" },
      tail: {
        type: "string",
        short: "n",
        value: "N",
        description: 'Lines to show from the end ("all" for as many as kept)',
      },
      timestamps: { type: "boolean", short: "t", description: "Prefix each line with its time" },
    },
    args: { min: 1, max: 1, what: "the container (name or id) is" },
    examples: ["fleet logs web", "fleet logs -f --tail 10 web-1"],
  },
  async run(context, { values, args }) {
    const { io } = context;
    const tail = parseTail(values.tail);
    const timestamps = values.timestamps === true;
    const { client } = await context.session();
    const container = await resolveContainer(client, args[0]!);
    if (!values.follow) {
      const answer = await client.container.logs.query({
        id: container.id,
        ...(tail !== undefined ? { tail } : {}),
      });
      if (answer.truncated) println(io.stderr, "(older lines left out: the answer was too large)");
      for (const line of answer.lines) printLine(io, line, timestamps);
      return EXIT.ok;
    }
    const lines = subscriptionStream<{ id: string; data: TLogLine } | TLogLine>(
      (handlers) =>
        client.container.logsFollow.subscribe(
          { id: container.id, ...(tail !== undefined ? { tail } : {}) },
          handlers,
        ),
      { signal: io.signal, reconnectGraceMs: FOLLOW_RECONNECT_GRACE_MS },
    );
    for await (const value of lines) printLine(io, untracked(value), timestamps);
    return EXIT.ok;
  },
});
