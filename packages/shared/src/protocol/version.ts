// Bump PROTOCOL_VERSION only for changes an older peer cannot ignore; new
// optional fields do not need it (unknown keys are stripped, see README.md).
// The history of versions is at the end of README.md.
export const PROTOCOL_VERSION = 5;

/** The largest frame either side sends or accepts, in UTF-8 bytes. */
export const MAX_FRAME_BYTES = 1024 * 1024;

/**
 * The longest an agent waits between attempts to reach the central. The
 * central relies on it: after the central restarts, hosts it last saw online
 * get their offline window plus this (twice, for the herd) before they count
 * as lost, so restarting the central never reschedules healthy hosts' work.
 */
export const AGENT_RECONNECT_MAX_MS = 5_000;

/**
 * WebSocket close codes the central sends agents that both ends act on
 * (4000–4999 are the application's own; the central's others are in
 * apps/web/src/server/gateway/gateway-limits.ts).
 */
export const AGENT_CLOSE = {
  /**
   * This central replica is stopping: dial again now, without backoff; the
   * load balancer hands the connection to another replica. The agent keeps
   * its spool and sends it there.
   */
  reconnectElsewhere: 4012,
  /**
   * The central cannot reach its database: redial with the usual backoff
   * (capped at AGENT_RECONNECT_MAX_MS), spooling metrics meanwhile.
   */
  databaseUnavailable: 4013,
} as const;
