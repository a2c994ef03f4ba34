// `fleet pull IMAGE`: starts a pull onto chosen hosts (or every online one)
// on the central and shows each host's progress on stderr: one redrawn line
// per host on a terminal, each layer's status changes as plain lines
// elsewhere. The result per host goes to stdout; exit 1 if any host failed.
// Ctrl-C stops watching, not the pull, which runs on to its end.
import { CliError, EXIT, UsageError } from "../cli-error";
import { JOB_WATCH_RECONNECT_GRACE_MS, subscriptionStream, untracked } from "../client";
import { defineCommand } from "../command";
import { LiveBlock } from "../format/progress";
import { println } from "../io";
import { resolveHost } from "../resolve";

export interface TPullProgress {
  hostId: string;
  hostName: string;
  status: string;
  layer?: string | undefined;
  current?: number | undefined;
  total?: number | undefined;
  done: boolean;
  digest?: string | null | undefined;
  error?: string | undefined;
}

interface TLayerState {
  status: string;
  current: number;
  total: number | null;
}

interface THostPull {
  hostName: string;
  status: string;
  layers: Map<string, TLayerState>;
  final: { ok: boolean; digest: string | null; error: string | null } | null;
}

const COMPLETE_LAYER = /complete|already exists|extracting/i;

/** Every host's pull as the progress messages tell it. */
export class PullBoard {
  readonly hosts = new Map<string, THostPull>();

  /** The hosts the pull goes to, before any message about them. */
  expect(hosts: readonly { hostId: string; hostName: string }[]): void {
    for (const { hostId, hostName } of hosts) {
      if (!this.hosts.has(hostId)) {
        this.hosts.set(hostId, { hostName, status: "requested", layers: new Map(), final: null });
      }
    }
  }

  /** Applies one message; returns a line worth printing on its own (plain output), or null. */
  apply(progress: TPullProgress): string | null {
    let host = this.hosts.get(progress.hostId);
    if (!host) {
      host = { hostName: progress.hostName, status: progress.status, layers: new Map(), final: null };
      this.hosts.set(progress.hostId, host);
    }
    if (progress.done) {
      const ok = progress.error === undefined && progress.status !== "failed";
      host.final = { ok, digest: progress.digest ?? null, error: progress.error ?? null };
      host.status = progress.status;
      // A failure is reported once, in the summary after the stream.
      return ok ? this.finalLine(host) : null;
    }
    host.status = progress.status;
    if (progress.layer === undefined) return `${host.hostName}: ${progress.status}`;
    const previous = host.layers.get(progress.layer);
    const total = progress.total ?? previous?.total ?? null;
    const current = COMPLETE_LAYER.test(progress.status) && total !== null ? total : (progress.current ?? 0);
    host.layers.set(progress.layer, { status: progress.status, current, total });
    // Byte counts tick many times a second: print a layer when its status changes.
    return previous?.status === progress.status
      ? null
      : `${host.hostName}: ${progress.layer}: ${progress.status}`;
  }

  private finalLine(host: THostPull): string {
    if (!host.final) return `${host.hostName}: ${host.status}`;
    if (!host.final.ok) return `${host.hostName}: failed: ${host.final.error ?? host.status}`;
    return `${host.hostName}: pulled${host.final.digest ? ` ${host.final.digest}` : ""}`;
  }

  /** One line per host (the terminal view). */
  lines(): string[] {
    return [...this.hosts.values()].map((host) => {
      if (host.final) return this.finalLine(host);
      const layers = [...host.layers.values()];
      const sized = layers.filter((layer) => layer.total !== null && layer.total > 0);
      const total = sized.reduce((sum, layer) => sum + (layer.total ?? 0), 0);
      const current = sized.reduce((sum, layer) => sum + Math.min(layer.current, layer.total ?? 0), 0);
      const share = total > 0 ? ` ${Math.floor((current / total) * 100)}%` : "";
      const count = layers.length > 0 ? ` (${layers.length} layer${layers.length === 1 ? "" : "s"})` : "";
      return `${host.hostName}: ${host.status}${share}${count}`;
    });
  }

  failures(): THostPull[] {
    return [...this.hosts.values()].filter((host) => host.final && !host.final.ok);
  }
}

export const pullCommand = defineCommand({
  spec: {
    name: "pull",
    summary: "Pull an image onto hosts",
    usage: "[OPTIONS] IMAGE",
    details: ["Without --host, pulls onto every online host (as --all)."],
    options: {
      host: {
        type: "string",
        multiple: true,
        value: "HOST",
        description: "Pull onto this host (name or id; repeatable)",
      },
      all: { type: "boolean", description: "Pull onto every online host" },
      quiet: { type: "boolean", short: "q", description: "Show no progress, only the result per host" },
    },
    args: { min: 1, max: 1, what: "the image is" },
    examples: [
      "fleet pull busybox:1.36 --all",
      "fleet pull --host node-1 --host node-2 registry.local/app:2",
    ],
  },
  async run(context, { values, args }) {
    const { io } = context;
    if (values.host && values.all) throw new UsageError("give --host or --all, not both", "pull");
    const { client } = await context.session();
    const hostIds = values.host
      ? [...new Set(await Promise.all(values.host.map(async (ref) => (await resolveHost(client, ref)).id)))]
      : null;
    const { jobId, hosts } = await client.image.pull.mutate(
      hostIds ? { image: args[0]!, hostIds } : { image: args[0]!, all: true },
    );
    const board = new PullBoard();
    board.expect(hosts);
    const live = io.stderr.isTTY && !values.quiet ? new LiveBlock(io.stderr) : null;
    const stream = subscriptionStream<{ id: string; data: TPullProgress } | TPullProgress>(
      (handlers) => client.image.watchPull.subscribe({ jobId }, handlers),
      { signal: io.signal, reconnectGraceMs: JOB_WATCH_RECONNECT_GRACE_MS },
    );
    for await (const value of stream) {
      const line = board.apply(untracked(value));
      if (live) live.render(board.lines());
      else if (line && !values.quiet) println(io.stderr, line);
    }
    live?.done();
    if (io.signal.aborted) {
      throw new CliError(
        `interrupted: the pull goes on on the central (job ${jobId}); \`fleet images\` shows where it has arrived`,
        EXIT.interrupted,
      );
    }
    for (const host of board.hosts.values()) {
      if (host.final?.ok)
        println(
          io.stdout,
          `${host.hostName}: pulled ${args[0]}${host.final.digest ? ` (${host.final.digest})` : ""}`,
        );
    }
    const failures = board.failures();
    for (const host of failures)
      println(io.stderr, `fleet: ${host.hostName}: ${host.final?.error ?? "failed"}`);
    const unfinished = [...board.hosts.values()].filter((host) => !host.final);
    if (failures.length > 0 || unfinished.length > 0) {
      throw new CliError(
        `the pull failed on ${failures.length + unfinished.length} of ${board.hosts.size} host${board.hosts.size === 1 ? "" : "s"}`,
        EXIT.failure,
      );
    }
    return EXIT.ok;
  },
});
