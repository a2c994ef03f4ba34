/**
 * The seams between the agent and its kernel readers: a sweep of container
 * and host samples, and a stream of OOM kills from the kernel log. The agent
 * depends on these small interfaces so its tests can pass fakes; the real
 * ones wrap `metrics/` (cgroup files, /proc, /dev/kmsg).
 */
import type { TContainerSample, THostSample } from "@fleet/shared/domain/metrics";
import type { Logger } from "pino";
import { ContainerSampler } from "./metrics/container-sampler";
import { HostSampler } from "./metrics/host";
import { engineIdFromMemcgPath, OomWatcher } from "./metrics/oom-watcher";

export interface SampleTarget {
  containerId: string;
  pid: number;
}

export interface MetricsSweep {
  containers: TContainerSample[];
  host: THostSample | null;
}

export interface MetricsSource {
  sample(targets: readonly SampleTarget[]): Promise<MetricsSweep>;
}

/** An OOM kill the kernel reported, already mapped to the engine's container id. */
export interface KernelOom {
  engineId: string;
  ts: number;
}

export interface KernelOomSource {
  start(onOom: (oom: KernelOom) => void): Promise<boolean>;
  stop(): Promise<void>;
}

/** Samples from cgroup files and /proc; `diskPath` is the engine's data root, for disk figures. */
export function cgroupMetricsSource(opts: { diskPath: string; log: Logger }): MetricsSource {
  const containers = new ContainerSampler();
  const host = new HostSampler({ diskPath: opts.diskPath });
  let hostWarned = false;
  return {
    async sample(targets) {
      const sweep = await containers.sample(targets);
      for (const failed of sweep.failed) {
        opts.log.warn(
          { containerId: failed.containerId, err: failed.error },
          "could not read container metrics",
        );
      }
      let hostSample: THostSample | null = null;
      try {
        hostSample = await host.sample(targets.length);
      } catch (error) {
        if (!hostWarned) opts.log.warn({ err: error }, "could not read host metrics");
        hostWarned = true;
      }
      return { containers: sweep.samples, host: hostSample };
    },
  };
}

/** OOM kills from /dev/kmsg, for engines (Podman 4) that do not report them. */
export function kmsgOomSource(opts: { log: Logger }): KernelOomSource {
  const watcher = new OomWatcher({ logger: opts.log });
  return {
    async start(onOom) {
      watcher.on("oom", (event) => {
        const engineId = engineIdFromMemcgPath(event.memcgPath);
        if (engineId) onOom({ engineId, ts: event.ts });
      });
      return watcher.start();
    },
    stop: () => watcher.stop(),
  };
}
