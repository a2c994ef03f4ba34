// Every limit, timeout and close code of the agents' endpoint, so the numbers
// an operator may ask about are in one place.

/** WebSocket close codes the gateway uses (4000-4999 are free for applications). */
export const GATEWAY_CLOSE = {
  /** The central is shutting down (RFC 6455 "going away"). */
  shutdown: 1001,
  /** Something failed on the central's side while setting up the session. */
  internal: 1011,
  /** Closed on request of the central (`gateway.disconnect`). */
  disconnected: 4000,
  /** Too many malformed frames, or a frame other than `hello` came first. */
  badFrames: 4400,
  /** Join token or credential refused (an `error` frame `unauthorized` goes first). */
  unauthorized: 4401,
  /** No `hello` within HELLO_TIMEOUT_MS. */
  helloTimeout: 4408,
  /** A newer connection of the same host took over. */
  replaced: 4409,
  /** The host was removed by an administrator. */
  hostRemoved: 4410,
  /** The agent speaks another protocol version (an `error` frame `version_mismatch` goes first). */
  versionMismatch: 4426,
  /** The agent kept sending past its rate limit. */
  flooding: 4429,
} as const;

/** How long a fresh socket may stay silent before it must have said `hello`. */
export const HELLO_TIMEOUT_MS = 10_000;

/** Malformed frames tolerated per window before the connection is closed. */
export const BAD_FRAME_LIMIT = 20;
export const BAD_FRAME_WINDOW_MS = 10_000;

/**
 * Per-connection token bucket: a steady rate and a burst. An agent sends a
 * heartbeat, a metrics batch and a handful of statuses every few seconds, plus
 * bursts after a reconnect (every container's status, a drained spool), so
 * these are an order of magnitude above normal traffic.
 */
export const FRAME_RATE_PER_SECOND = 200;
export const FRAME_BURST = 1000;
/** Frames dropped for the rate limit (answered `rate_limited`) before the connection is closed. */
export const RATE_LIMITED_FRAMES_BEFORE_CLOSE = 200;

/**
 * Database work the gateway starts at once, by kind. The central's pool has
 * ten connections (pg's default) and the API, the duties and liveness need
 * some of them too. After a central restart every host says hello within
 * seconds and then resends every container's status: unbounded, that is
 * thousands of queries waiting for ten connections, the hellos' transactions
 * give up waiting for one (Prisma's 2 s), the agents redial and the storm
 * never ends. Bounded, each kind waits its turn in this process, in order,
 * and hellos never queue behind statuses. Hellos count in batches (HELLO_BATCH).
 */
export const CONCURRENT_HELLOS = 3;
/**
 * Hellos handled together, with one statement for all their credentials and
 * claims and one transaction for all their desired sets (hello-handshake.ts).
 * Bounded so one batch's sets (50 containers a host here) are read and sent
 * without holding the event loop for long.
 */
export const HELLO_BATCH = 50;
/** Statuses, events and acks of welcomed connections (metrics have the metrics service's own connections). */
export const CONCURRENT_FRAME_WRITES = 3;
/** After-connect work (refreshing a host's volumes, networks and images). */
export const CONCURRENT_CONNECTED_HOOKS = 1;

/** At most one `lastSeenAt` write per host per this interval. */
export const LAST_SEEN_WRITE_INTERVAL_MS = 1000;

/** Facts carry no pid limit; this is the kernel's default `pid_max`. */
export const DEFAULT_HOST_PIDS_CAPACITY = 32_768;

/** Operations without a timeout of their own. */
export const DEFAULT_OP_TIMEOUT_MS = 60_000;
/** The central waits this much longer than the agent, so the agent's own `timeout` answer arrives first. */
export const OP_TIMEOUT_GRACE_MS = 2000;
/** After `op.cancel`, how long the agent has to answer before the request is failed here. */
export const OP_CANCEL_GRACE_MS = 5000;
/** Operations in flight per host. */
export const MAX_PENDING_OPS_PER_HOST = 64;

/** Upload chunks wait while the socket holds more than this many unsent bytes. */
export const UPLOAD_HIGH_WATER_BYTES = 4 * 1024 * 1024;

/** How long `close()` waits for agent sockets to finish their closing handshake. */
export const CLOSE_GRACE_MS = 2000;
