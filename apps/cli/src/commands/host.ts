// `fleet host upgrade HOST|--all`: replaces agents with the build the central
// serves, one host at a time, and waits for the roll to finish, printing each
// host's outcome as it settles. The roll runs on the central: Ctrl-C stops
// only the waiting.
import { EXIT, UsageError } from "../cli-error";
import { type CommandGroup, defineCommand } from "../command";
import { println } from "../io";
import { resolveHost } from "../resolve";
import { sleep } from "../sleep";

const POLL_MS = 1000;

const hostUpgrade = defineCommand({
  spec: {
    name: "host upgrade",
    summary: "Upgrade hosts' agents to the build the central serves",
    usage: "HOST | --all",
    details: [
      "Each agent downloads the central's binary over its pinned link, checks its sha256, tries it and keeps it",
      "only if it connects; otherwise the old one runs on. Containers keep running throughout. With --all, every",
      "online host whose agent differs from the central's build is upgraded in turn, and the first failure stops",
      "the rest. Waits for the outcome; exits 1 if any host failed. Administrators only.",
    ],
    options: {
      all: { type: "boolean", description: "Every online host whose agent is outdated" },
    },
    args: { min: 0, max: 1, what: "one host (name or id) is" },
    examples: ["fleet host upgrade node-1", "fleet host upgrade --all"],
  },
  async run(context, { values, args }) {
    if (Boolean(values.all) === (args.length === 1)) {
      throw new UsageError("name one host, or pass --all", "host upgrade");
    }
    const { client } = await context.session();
    const { stdout, signal } = context.io;
    const target = values.all
      ? ({ outdated: true } as const)
      : { hostId: (await resolveHost(client, args[0]!)).id };
    const started = await client.host.upgradeAgent.mutate(target);
    if (started.hosts.length === 0) {
      println(stdout, `every online host already runs ${started.build}`);
      return EXIT.ok;
    }
    println(stdout, `upgrading ${started.hosts.map((host) => host.name).join(", ")} to ${started.build}`);
    const printed = new Set<string>();
    for (;;) {
      const { roll } = await client.host.agentBuild.query();
      for (const host of roll?.hosts ?? []) {
        if (printed.has(host.id) || !["upgraded", "failed", "skipped"].includes(host.state)) continue;
        printed.add(host.id);
        const detail =
          host.state === "failed"
            ? `: ${host.message}`
            : host.state === "skipped"
              ? " (the roll stopped)"
              : "";
        println(stdout, `${host.name}: ${host.state}${detail}`);
      }
      if (!roll || roll.finished) {
        return roll?.hosts.every((host) => host.state === "upgraded") ? EXIT.ok : EXIT.failure;
      }
      await sleep(POLL_MS, signal);
      if (signal.aborted) {
        println(stdout, "stopped waiting; the upgrade goes on on the central (see fleet hosts)");
        return EXIT.interrupted;
      }
    }
  },
});

export const hostGroup: CommandGroup = {
  name: "host",
  summary: "Manage the hosts' agents",
  commands: [hostUpgrade],
  examples: ["fleet host upgrade node-1", "fleet host upgrade --all"],
};
