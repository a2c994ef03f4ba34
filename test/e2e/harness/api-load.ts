/**
 * Steady API traffic through the load balancer for the replica tests: a loop
 * of reads (host.list, container.list) and, every few rounds, a
 * `container.run` of a small sleeper that a later round removes again. A call
 * answered 503 (a replica stopping, the database away, or no replica ready at
 * the load balancer) is retried, as a client should; any other failure is
 * kept. Every run the API accepted is kept with its id, for "every accepted
 * run exists exactly once".
 *
 * May import: the web app's API types, @trpc/client.
 */
import { TRPCClientError } from "@trpc/client";
import { type FleetClient, LoadBalancerAnswer } from "./replicas";

export interface AcceptedRun {
  id: string;
  name: string;
  hostName: string | null;
  removed: boolean;
}

export interface LoadFigures {
  calls: number;
  /** 503 answers retried (each counted once per answer). */
  retried503: number;
  /** Calls that failed otherwise, with what they were. */
  failures: string[];
  runs: AcceptedRun[];
  /** Longest time one call took from its first try to its answer, retries included. */
  slowestCallMs: number;
}

const RETRY_PAUSE_MS = 250;
/** A call still refused after this long fails (the database outage is 30 s). */
const RETRY_FOR_MS = 90_000;

/** The HTTP status a failed tRPC call came back with, when there was one. */
export function httpStatusOf(error: unknown): number | null {
  if (!(error instanceof TRPCClientError)) return null;
  if (error.cause instanceof LoadBalancerAnswer) return error.cause.status;
  const data = error.data as { httpStatus?: number } | undefined;
  if (typeof data?.httpStatus === "number") return data.httpStatus;
  const meta = error.meta as { response?: { status?: number } } | undefined;
  if (typeof meta?.response?.status === "number") return meta.response.status;
  return null;
}

/** A refusal a client may simply try again: 503 from a replica or from the load balancer. */
export function isRetryable(error: unknown): boolean {
  if (httpStatusOf(error) === 503) return true;
  if (!(error instanceof TRPCClientError)) return false;
  const code = (error.data as { code?: string } | undefined)?.code;
  return code === "SERVICE_UNAVAILABLE";
}

export function describeError(error: unknown): string {
  const status = httpStatusOf(error);
  const message = error instanceof Error ? error.message : String(error);
  return `${status ?? "no status"}: ${message.slice(0, 300)}`;
}

export interface ApiLoad {
  /** Stops after the round in flight; resolves with what happened. */
  stop(): Promise<LoadFigures>;
  readonly figures: LoadFigures;
}

export function startApiLoad(options: {
  client: FleetClient;
  image: string;
  /** Prefix of the runs' names, unique per load. */
  prefix: string;
  /** Pause between rounds. */
  everyMs?: number;
  /** A run every this many rounds. */
  runEvery?: number;
  /** Runs kept at once; older ones are removed. */
  keepRuns?: number;
}): ApiLoad {
  const { client, image, prefix } = options;
  const everyMs = options.everyMs ?? 200;
  const runEvery = options.runEvery ?? 3;
  const keepRuns = options.keepRuns ?? 4;
  const figures: LoadFigures = { calls: 0, retried503: 0, failures: [], runs: [], slowestCallMs: 0 };
  let stopped = false;

  const call = async <T>(what: string, work: () => Promise<T>): Promise<T | undefined> => {
    const started = performance.now();
    figures.calls++;
    for (;;) {
      try {
        const result = await work();
        figures.slowestCallMs = Math.max(figures.slowestCallMs, Math.round(performance.now() - started));
        return result;
      } catch (error) {
        if (isRetryable(error) && performance.now() - started < RETRY_FOR_MS) {
          figures.retried503++;
          await new Promise((resolve) => setTimeout(resolve, RETRY_PAUSE_MS));
          continue;
        }
        figures.failures.push(`${what} at ${new Date().toISOString()}: ${describeError(error)}`);
        return undefined;
      }
    }
  };

  const loop = (async () => {
    let round = 0;
    while (!stopped) {
      round++;
      await call("host.list", () => client.host.list.query({}));
      await call("container.list", () => client.container.list.query({ limit: 5 }));
      if (round % runEvery === 0) {
        const name = `${prefix}-${round}`;
        const result = await call(`container.run ${name}`, () =>
          client.container.run.mutate({
            name,
            image,
            command: ["sh", "-c", "trap 'exit 0' TERM; while true; do sleep 1; done"],
            cpus: "0.01",
            memory: "8m",
          }),
        );
        if (result) {
          figures.runs.push({
            id: result.container.id,
            name,
            hostName: result.placement.hostName ?? null,
            removed: false,
          });
        }
        const live = figures.runs.filter((run) => !run.removed);
        for (const run of live.slice(0, Math.max(0, live.length - keepRuns))) {
          const removed = await call(`container.remove ${run.name}`, () =>
            client.container.remove.mutate({ id: run.id }),
          );
          if (removed !== undefined) run.removed = true;
        }
      }
      await new Promise((resolve) => setTimeout(resolve, everyMs));
    }
  })();

  return {
    figures,
    async stop() {
      stopped = true;
      await loop;
      return figures;
    },
  };
}
