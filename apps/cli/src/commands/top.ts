// `fleet top`: per host, what the scheduler has handed out (allocated)
// against what the containers use right now, out of what the host may hand
// out, and how many containers it holds. On a terminal it redraws every
// --interval until Ctrl-C; otherwise (or with --once) it prints one snapshot.
import { parseDuration } from "@fleet/shared/units";
import type { TFleetSummary } from "../api-types";
import { parsedFlag } from "../args";
import { EXIT, UsageError } from "../cli-error";
import { toCliError } from "../client";
import { defineCommand } from "../command";
import { bytes, cores, coresUsed, percent } from "../format/format";
import { CLEAR_SCREEN } from "../format/progress";
import { renderTable } from "../format/table";
import { println } from "../io";
import { sleep } from "../sleep";

const MIN_INTERVAL_MS = 500;

function pair(used: string, of: string, ratio: number | null): string {
  return `${used}/${of} (${percent(ratio)})`;
}

export function topLines(summary: TFleetSummary, now: number): string[] {
  const table = renderTable(
    ["HOST", "STATUS", "CONTAINERS", "CPU ALLOCATED", "CPU USED", "MEM ALLOCATED", "MEM USED"],
    summary.hosts.map((host) => [
      host.name,
      `${host.status}${host.draining ? " (draining)" : ""}`,
      `${host.containersRunning}/${host.containers}`,
      pair(cores(host.cpuAllocatedMillis), cores(host.cpuAllocatableMillis), host.cpuAllocatedRatio),
      pair(coresUsed(host.cpuUsedCores), cores(host.cpuAllocatableMillis), host.cpuUsedRatio),
      pair(bytes(host.memoryAllocatedBytes), bytes(host.memoryAllocatableBytes), host.memoryAllocatedRatio),
      pair(bytes(host.memoryUsedBytes), bytes(host.memoryAllocatableBytes), host.memoryUsedRatio),
    ]),
  );
  const totals = summary.totals;
  const at = new Date(summary.at)
    .toISOString()
    .replace("T", " ")
    .replace(/\.\d+Z$/, " UTC");
  return [
    `fleet top — ${at}   hosts ${totals.hostsOnline}/${totals.hosts} online   containers ${totals.containersRunning}/${totals.containers} running` +
      (totals.containersPerHost === null
        ? ""
        : `   ${Math.round(totals.containersPerHost * 10) / 10} per host`),
    `cpu allocated ${pair(cores(totals.cpuAllocatedMillis), cores(totals.cpuAllocatableMillis), totals.cpuAllocatedRatio)}` +
      `   used ${pair(coresUsed(totals.cpuUsedCores), cores(totals.cpuAllocatableMillis), totals.cpuUsedRatio)}`,
    `mem allocated ${pair(bytes(totals.memoryAllocatedBytes), bytes(totals.memoryAllocatableBytes), totals.memoryAllocatedRatio)}` +
      `   used ${pair(bytes(totals.memoryUsedBytes), bytes(totals.memoryAllocatableBytes), totals.memoryUsedRatio)}`,
    "",
    ...table,
    ...(now - summary.at > 60_000 ? ["", "(the central's clock differs from this machine's)"] : []),
  ];
}

export const topCommand = defineCommand({
  spec: {
    name: "top",
    summary: "Show live utilization per host: allocated against used CPU and memory",
    usage: "[OPTIONS]",
    options: {
      interval: { type: "string", value: "DURATION", description: "Time between refreshes (default 2s)" },
      once: {
        type: "boolean",
        description: "Print one snapshot and exit (the default when stdout is not a terminal)",
      },
      json: { type: "boolean", description: "Print one snapshot as JSON (the API's fleet summary)" },
    },
    args: { min: 0, max: 0, what: "" },
    examples: ["fleet top", "fleet top --interval 5s", "fleet top --once"],
  },
  async run(context, { values }) {
    const { io } = context;
    const intervalMs = parsedFlag(values.interval, "--interval", "top", parseDuration) ?? 2000;
    if (intervalMs < MIN_INTERVAL_MS)
      throw new UsageError(`--interval must be at least ${MIN_INTERVAL_MS}ms`, "top");
    const { client, url } = await context.session();
    const snapshot = async () => (await client.metrics.fleet.query({ range: "15m" })).summary;
    if (values.json) {
      println(io.stdout, JSON.stringify(await snapshot(), null, 2));
      return EXIT.ok;
    }
    if (values.once || !io.stdout.isTTY) {
      for (const line of topLines(await snapshot(), io.now())) println(io.stdout, line);
      return EXIT.ok;
    }
    let lines: string[] = [];
    while (!io.signal.aborted) {
      let problem = "";
      try {
        lines = topLines(await snapshot(), io.now());
      } catch (error) {
        const failure = toCliError(error, url);
        if (failure.exitCode === EXIT.unauthorized) throw failure;
        // A central that restarts or a network blip: keep the last picture and say so.
        problem = `\n(refresh failed at ${new Date(io.now()).toISOString().slice(11, 19)} UTC: ${failure.message})`;
      }
      io.stdout.write(`${CLEAR_SCREEN}${lines.join("\n")}${problem}\n`);
      await sleep(intervalMs, io.signal);
    }
    return EXIT.ok;
  },
});
