// `fleet build -t TAG --host H PATH`: tars PATH here, uploads it to the
// central (`POST /api/uploads`), then starts image.build on the host and
// streams the build's output to stderr. The image id goes to stdout; exit 1
// if the build failed. Ctrl-C stops watching, not the build, which runs on
// to its end.
import { CliError, EXIT, UsageError } from "../cli-error";
import { JOB_WATCH_RECONNECT_GRACE_MS, subscriptionStream, untracked, uploadContext } from "../client";
import { defineCommand } from "../command";
import { collectContext, tarContext } from "../context-archive";
import { bytes } from "../format/format";
import { println } from "../io";
import { resolveHost } from "../resolve";

/** The central's upload limit (apps/web uploads.ts), checked here before tarring gigabytes. */
const MAX_CONTEXT_BYTES = 64 * 1024 * 1024;

type TBuildProgress =
  | { type: "output"; line: string }
  | { type: "built"; imageId: string }
  | { type: "failed"; error: string };

export const buildCommand = defineCommand({
  spec: {
    name: "build",
    summary: "Build an image on a host from a local directory",
    usage: "[OPTIONS] PATH",
    details: ["The directory is sent as the build context (less what .dockerignore leaves out)."],
    options: {
      tag: { type: "string", short: "t", value: "TAG", description: "Name the image (required), e.g. app:1" },
      host: { type: "string", value: "HOST", description: "Build on this host (name or id; required)" },
      file: {
        type: "string",
        short: "f",
        value: "PATH",
        description: "The Dockerfile, relative to PATH (default Dockerfile)",
      },
      quiet: { type: "boolean", short: "q", description: "Show no build output, only the image id" },
    },
    args: { min: 1, max: 1, what: "the build context (a directory) is" },
    examples: [
      "fleet build -t app:1 --host node-1 .",
      "fleet build -t app:1 --host node-1 -f docker/Dockerfile .",
    ],
  },
  async run(context, { values, args }) {
    const { io } = context;
    if (!values.tag) throw new UsageError("-t/--tag is required", "build");
    if (!values.host) throw new UsageError("--host is required", "build");
    const dockerfile = (values.file ?? "Dockerfile").replace(/^(\.\/)+/, "");
    const entries = await collectContext(args[0]!, { maxBytes: MAX_CONTEXT_BYTES, dockerfile });
    const archive = await tarContext(entries);

    const { client, url, token } = await context.session();
    const host = await resolveHost(client, values.host);
    if (!values.quiet) println(io.stderr, `uploading the build context (${bytes(archive.byteLength)})`);
    const { uploadId } = await uploadContext({ url, token, body: archive });

    const { jobId } = await client.image.build.mutate({
      hostId: host.id,
      tag: values.tag,
      uploadId,
      ...(values.file ? { dockerfile } : {}),
    });
    const stream = subscriptionStream<{ id: string; data: TBuildProgress } | TBuildProgress>(
      (handlers) => client.image.watchBuild.subscribe({ jobId }, handlers),
      { signal: io.signal, reconnectGraceMs: JOB_WATCH_RECONNECT_GRACE_MS },
    );
    let outcome: TBuildProgress | null = null;
    for await (const value of stream) {
      const progress = untracked(value);
      if (progress.type === "output") {
        if (!values.quiet) println(io.stderr, progress.line.replace(/\n$/, ""));
      } else {
        outcome = progress;
      }
    }
    if (io.signal.aborted) {
      throw new CliError(
        `interrupted: the build goes on on host ${host.name} (job ${jobId}); \`fleet images --host ${host.name}\` shows its image once built`,
        EXIT.interrupted,
      );
    }
    if (!outcome) throw new CliError(`the build on ${host.name} ended without a result`);
    if (outcome.type === "failed") throw new CliError(`the build on ${host.name} failed: ${outcome.error}`);
    if (outcome.type === "built") println(io.stdout, outcome.imageId);
    return EXIT.ok;
  },
});
