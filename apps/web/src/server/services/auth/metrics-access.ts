/**
 * Who may scrape `/metrics`: it names hosts, their capacity and use, so it
 * takes a bearer token as Prometheus sends one (`authorization` or
 * `bearer_token_file` in a scrape config): FLEET_METRICS_TOKEN, or any valid
 * API token (every user has at least the viewer role). FLEET_METRICS_PUBLIC
 * opens it to anyone, for a network where the scraper is the only client.
 */
import type { Clock } from "@fleet/shared/clock";
import type { PrismaClient } from "../../db/client";
import type { TEnv } from "../../env";
import { constantTimeEqual } from "../../tokens";
import { authenticateRequest } from "./authenticate-request";

export type TMetricsAccess = { ok: true } | { ok: false; problem: string };

export async function metricsAccessOf(options: {
  db: PrismaClient;
  clock: Clock;
  env: Pick<TEnv, "FLEET_METRICS_TOKEN" | "FLEET_METRICS_PUBLIC">;
  authorization: string | undefined;
}): Promise<TMetricsAccess> {
  const { env, authorization } = options;
  if (env.FLEET_METRICS_PUBLIC) return { ok: true };
  if (!authorization?.trim()) {
    return { ok: false, problem: "send a bearer token: FLEET_METRICS_TOKEN or an API token" };
  }
  const bearer = /^Bearer\s+(\S+)\s*$/i.exec(authorization)?.[1];
  if (bearer && env.FLEET_METRICS_TOKEN && constantTimeEqual(bearer, env.FLEET_METRICS_TOKEN)) {
    return { ok: true };
  }
  const { auth, problem } = await authenticateRequest({
    db: options.db,
    clock: options.clock,
    credentials: { authorization },
  });
  return auth ? { ok: true } : { ok: false, problem: problem ?? "unknown token" };
}
