/**
 * One health check of a running container, by the kind of its test: `exec`
 * through the engine's exec API, `http` and `tcp` from inside the container's
 * network namespace (netns-probe.ts). Timing and verdicts are the monitor's.
 */
import type { THealthCheck } from "@fleet/shared/domain/container-spec";
import type { ContainerDriver } from "../runtime/container-driver";
import type { ProbeOutcome } from "./health-state";
import { type NetnsProbeRequest, runNetnsProbe } from "./netns-probe";

/** Docker keeps 4 KiB of a check's output; so does the agent (and the protocol's message limit is the same). */
const MAX_EXEC_OUTPUT_BYTES = 4096;

export interface HealthProbeTarget {
  engineId: string;
  /** Host pid of the container's init process. */
  pid: number;
}

export interface HealthProber {
  probe(target: HealthProbeTarget, check: THealthCheck, signal: AbortSignal): Promise<ProbeOutcome>;
}

export class RuntimeHealthProber implements HealthProber {
  constructor(
    private readonly containers: Pick<ContainerDriver, "exec">,
    /** Replaced in unit tests, which have no namespaces to enter. */
    private readonly network: (
      request: NetnsProbeRequest,
      signal?: AbortSignal,
    ) => Promise<ProbeOutcome> = runNetnsProbe,
  ) {}

  async probe(target: HealthProbeTarget, check: THealthCheck, signal: AbortSignal): Promise<ProbeOutcome> {
    const { test, timeoutMs } = check;
    if (test.type !== "exec") return this.network({ pid: target.pid, test, timeoutMs }, signal);
    const result = await this.containers.exec(
      target.engineId,
      { command: test.command, timeoutMs, maxOutputBytes: MAX_EXEC_OUTPUT_BYTES },
      signal,
    );
    const output = result.output.trim() + (result.truncated ? " …" : "");
    if (result.exitCode === 0) return { ok: true, message: output };
    const why = result.timedOut ? `timed out after ${timeoutMs} ms` : `exit code ${result.exitCode}`;
    return { ok: false, message: output ? `${why}: ${output}` : why };
  }
}
