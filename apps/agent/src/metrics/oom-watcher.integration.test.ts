import { spawn } from "node:child_process";
import { once } from "node:events";
import { constants } from "node:fs";
import { access } from "node:fs/promises";
import { afterAll, describe, expect, it } from "vitest";
import { readCgroupStats } from "./cgroup/read-cgroup";
import type { TOomEvent } from "./oom-watcher";
import { engineIdFromMemcgPath, OomWatcher } from "./oom-watcher";
import { HandMadeCgroup, probeV1Cgroups } from "./testing/hand-made-cgroup";

// A real OOM kill in a 16 MiB memory cgroup, learned from the real /dev/kmsg.
const probe = await probeV1Cgroups();
const kmsgReadable = await access("/dev/kmsg", constants.R_OK).then(
  () => true,
  () => false,
);
const skipReason = !probe.writable
  ? ` (skipped: ${probe.reason})`
  : kmsgReadable
    ? ""
    : " (skipped: /dev/kmsg is not readable)";

describe("the OOM watcher on the real kernel log", () => {
  let cgroup: HandMadeCgroup | undefined;
  const watcher = new OomWatcher({ pollIntervalMs: 50 });

  afterAll(async () => {
    await watcher.stop();
    await cgroup?.remove();
  });

  it.skipIf(skipReason !== "")(
    `reports the kill with the cgroup, pid and name of the process${skipReason}`,
    async () => {
      if (!probe.writable) return;
      const name = `fleet-metrics-oom-${process.pid}`;
      cgroup = await HandMadeCgroup.create(probe.mountPoints, name, { memoryBytes: 16 * 1024 * 1024 });
      const events: TOomEvent[] = [];
      watcher.on("oom", (event) => events.push(event));
      await expect(watcher.start()).resolves.toBe(true);

      const startedAt = Date.now();
      // dd allocates and fills a 64 MiB buffer; it waits until it is inside the cgroup.
      const hog = spawn("sh", ["-c", "sleep 0.3; exec dd if=/dev/zero of=/dev/null bs=64M count=1"], {
        stdio: "ignore",
      });
      await cgroup.addProcess(hog.pid!);
      const [, signal] = await once(hog, "exit");
      expect(signal).toBe("SIGKILL");

      for (let waited = 0; !events.some((event) => event.pid === hog.pid) && waited < 5000; waited += 50) {
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      const kill = events.find((event) => event.pid === hog.pid);
      expect(kill).toMatchObject({ memcgPath: `/${name}`, oomMemcgPath: `/${name}`, comm: "dd" });
      expect(kill!.ts).toBeGreaterThanOrEqual(startedAt - 1000);
      expect(kill!.ts).toBeLessThanOrEqual(Date.now() + 1000);
      expect(engineIdFromMemcgPath(kill!.memcgPath)).toBeNull();

      const stats = await readCgroupStats(cgroup.cgroup);
      expect(stats.oomKills).toBe(1);
      expect(stats.memoryUsageBytes).toBeLessThanOrEqual(16 * 1024 * 1024);
    },
  );
});
