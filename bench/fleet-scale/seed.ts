/**
 * The rows the fleet-scale benchmark needs that agents do not make by joining, written with
 * plain SQL (one statement per table) rather than placed through the API: placing 100,000
 * containers one request at a time would take longer than the whole measured window, and
 * placement is measured by bench/placement. What the scheduler relies on is kept true: each
 * host's allocated columns are set to the sums of its live containers' requests.
 *
 * - `seedContainers`: `perHost` running containers on each host (`bench-<host>-<i>`,
 *   100 m CPU, 64 MiB, 10 pids each, an empty spec the protocol accepts), created 100 ms
 *   apart (from a day ago) so list pages have a stable order; the engine id is the
 *   sha256 of the container id and the start time `startedAt`, as the simulated agents report
 *   them (so their statuses are repeats, as on a fleet that has been running).
 * - `seedMinuteRollups`: 24 h of minute rollups for the first `count` containers, ending
 *   `endMs`, so "a container's 24 h metrics" reads as many rows as on a fleet that has run
 *   for a day.
 */
import type pg from "pg";

const EMPTY_SPEC = JSON.stringify({
  command: null,
  env: {},
  ports: [],
  labels: {},
  mounts: [],
  networks: [],
  healthCheck: null,
});

export async function seedContainers(
  client: pg.Client,
  hostIds: string[],
  perHost: number,
  startedAt: string,
): Promise<void> {
  // The centrals write host rows meanwhile (acks, last seen), locking them FOR UPDATE in id
  // order. The inserts' foreign-key checks share-lock the same rows in no order: without the
  // rows locked in id order first, the two deadlock.
  await client.query("BEGIN");
  await client.query("SELECT id FROM hosts ORDER BY id FOR UPDATE");
  await client.query(
    `INSERT INTO containers (id, name, host_id, image, spec, cpu_request_millis, memory_request_bytes,
       pids_request, desired_state, actual_state, engine_id, placement_reason, requested_at, scheduled_at,
       started_at, running_reported_at, created_at, updated_at)
     SELECT c.id, format('bench-%s-%s', h.ord, c.i), h.id, 'busybox:latest', $2::jsonb, 100, 67108864, 10,
       'running', 'running', encode(sha256(convert_to(c.id, 'UTF8')), 'hex'), 'seeded by the bench',
       c.created, c.created, $4::timestamptz, c.created, c.created, now()
     FROM unnest($1::text[]) WITH ORDINALITY AS h(id, ord)
     CROSS JOIN LATERAL (
       SELECT gen_random_uuid()::text AS id, i,
         now() - interval '1 day' + ((h.ord - 1) * $3 + i) * interval '100 ms' AS created
       FROM generate_series(0, $3 - 1) AS i
     ) AS c`,
    [hostIds, EMPTY_SPEC, perHost, startedAt],
  );
  await client.query(
    `UPDATE hosts SET cpu_allocated_millis = s.cpu, memory_allocated_bytes = s.memory, pids_allocated = s.pids
     FROM (SELECT host_id, sum(cpu_request_millis)::int AS cpu, sum(memory_request_bytes)::bigint AS memory,
             sum(pids_request)::int AS pids
           FROM containers WHERE removed_at IS NULL AND host_id IS NOT NULL GROUP BY host_id) AS s
     WHERE hosts.id = s.host_id`,
  );
  await client.query("COMMIT");
  await client.query("ANALYZE containers");
  await client.query("ANALYZE hosts");
}

/** Returns the ids of the containers that got history. */
export async function seedMinuteRollups(client: pg.Client, count: number, endMs: number): Promise<string[]> {
  const picked = await client.query<{ id: string; host_id: string }>(
    "SELECT id, host_id FROM containers WHERE removed_at IS NULL ORDER BY created_at, id LIMIT $1",
    [count],
  );
  const ids = picked.rows.map((row) => row.id);
  await client.query(
    `INSERT INTO container_samples_minute (container_id, host_id, bucket, sample_count, cpu_cores_avg,
       cpu_cores_max, memory_usage_bytes_avg, memory_usage_bytes_max, memory_working_set_bytes_avg,
       memory_working_set_bytes_max, memory_limit_bytes_max, pids_current_max, cpu_throttled_periods_delta,
       cpu_throttled_ns_delta, memory_failcnt_delta, oom_kills_delta, cpu_throttled_periods_last,
       cpu_throttled_ns_last, memory_failcnt_last, oom_kills_last, net_rx_bytes_last, net_tx_bytes_last,
       net_rx_packets_last, net_tx_packets_last, blk_read_bytes_last, blk_write_bytes_last)
     SELECT c.id, c.host_id, b.bucket, 12, 0.2 + 0.1 * sin(b.n / 60.0), 0.5, 20971520, 25165824, 18874368,
       20971520, 67108864, 4, 0, 0, 0, 0, 3, 20000000, 0, 0, 1024 * b.n, 2048 * b.n, 10 * b.n, 12 * b.n,
       4096, 0
     FROM unnest($1::text[], $2::text[]) AS c(id, host_id)
     CROSS JOIN LATERAL (
       SELECT n, date_trunc('minute', to_timestamp($3 / 1000.0)) - n * interval '1 minute' AS bucket
       FROM generate_series(1, 24 * 60) AS n
     ) AS b`,
    [ids, picked.rows.map((row) => row.host_id), endMs],
  );
  await client.query("ANALYZE container_samples_minute");
  return ids;
}
