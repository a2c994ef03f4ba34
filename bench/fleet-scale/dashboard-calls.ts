/**
 * What the dashboard asks the central, timed one call at a time through the typed tRPC
 * client (HTTP, an admin's API token): the Overview's fleet summary (`metrics.fleet` over
 * 15 minutes with the 20 most allocated hosts, as the page polls it every 5 s), the Hosts page (`host.list`), the Containers
 * page (`container.list`, first page and 50th page of 50), a container's metrics over 24 h,
 * and the Events page (`event.list`).
 */
import { performance } from "node:perf_hooks";
import type { AppRouter } from "@fleet/web/server/routers/_app";
import { createSseTestClient } from "@fleet/web/server/routers/event/testing/sse-test-client";

export type CallTimings = Record<string, number[]>;

const PAGE = 50;
/** The Overview's HOST_CHART_LIMIT (apps/web/src/client/overview/overview-data.ts, not importable here: it pulls in JSX). */
const OVERVIEW_TOP_HOSTS = 20;
const DEEP_PAGE = 50;

export async function createDashboardCaller(options: {
  baseUrl: string;
  token: string;
  historyIds: string[];
}) {
  const client = createSseTestClient<AppRouter>(options.baseUrl, options.token);
  // The cursor of the 50th page, found once by following nextCursor (what paging there costs).
  let cursor: string | null = null;
  let pagesWalked = 0;
  for (let page = 1; page < DEEP_PAGE; page++) {
    const result = await retried(() => client.container.list.query({ limit: PAGE, cursor }));
    pagesWalked++;
    if (!result.nextCursor) break;
    cursor = result.nextCursor;
  }
  const deepCursor = cursor;
  const timings: CallTimings = {
    fleet_summary: [],
    host_list: [],
    container_list_first: [],
    container_list_50th: [],
    container_metrics_24h: [],
    event_list: [],
  };
  /** Calls that failed (a central too busy to reach its database answers 503), by call; not timed. */
  const errors: Record<string, number> = {};
  let rounds = 0;
  const timed = async (name: keyof typeof timings, call: () => Promise<unknown>) => {
    const started = performance.now();
    try {
      await call();
      timings[name]?.push(performance.now() - started);
    } catch {
      errors[name] = (errors[name] ?? 0) + 1;
    }
  };
  return {
    timings,
    errors,
    pagesWalked,
    get rounds() {
      return rounds;
    },
    async round(): Promise<void> {
      const containerId = options.historyIds[rounds % options.historyIds.length] as string;
      rounds++;
      await timed("fleet_summary", () =>
        client.metrics.fleet.query({ range: "15m", topHosts: OVERVIEW_TOP_HOSTS }),
      );
      await timed("host_list", () => client.host.list.query({ limit: PAGE }));
      await timed("container_list_first", () => client.container.list.query({ limit: PAGE }));
      await timed("container_list_50th", () =>
        client.container.list.query({ limit: PAGE, cursor: deepCursor }),
      );
      await timed("container_metrics_24h", () =>
        client.metrics.container.query({ containerId, range: "24h" }),
      );
      await timed("event_list", () => client.event.list.query({ limit: PAGE }));
    },
  };
}

async function retried<T>(call: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await call();
    } catch (error) {
      if (attempt >= 5) throw error;
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
  }
}
