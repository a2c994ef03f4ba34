-- Fleet: initial schema. Written by hand in the form `prisma migrate dev`
-- produces for prisma/schema.prisma (same statements, order and constraint
-- names), plus what the schema language cannot say: daily range partitioning
-- of the raw sample tables, a partial unique index, and the partition
-- maintenance functions at the end.

-- CreateEnum
CREATE TYPE "user_role" AS ENUM ('admin', 'operator', 'viewer');

-- CreateEnum
CREATE TYPE "host_status" AS ENUM ('online', 'offline');

-- CreateEnum
CREATE TYPE "placement_strategy" AS ENUM ('binpack', 'spread');

-- CreateEnum
CREATE TYPE "restart_policy" AS ENUM ('no', 'on-failure', 'always');

-- CreateEnum
CREATE TYPE "container_desired_state" AS ENUM ('running', 'stopped', 'removed');

-- CreateEnum
CREATE TYPE "container_actual_state" AS ENUM ('pending', 'pulling', 'creating', 'running', 'restarting', 'crashloop', 'exited', 'stopped', 'failed', 'removed');

-- CreateEnum
CREATE TYPE "event_severity" AS ENUM ('info', 'warning', 'error');

-- CreateTable
CREATE TABLE "users" (
    "id" TEXT NOT NULL,
    "email" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "role" "user_role" NOT NULL DEFAULT 'viewer',
    "password_hash" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,
    "disabled_at" TIMESTAMPTZ(3),

    CONSTRAINT "users_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "sessions" (
    "id" TEXT NOT NULL,
    "user_id" TEXT NOT NULL,
    "expires_at" TIMESTAMPTZ(3) NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "last_seen_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "sessions_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "api_tokens" (
    "id" TEXT NOT NULL,
    "user_id" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "token_hash" TEXT NOT NULL,
    "prefix" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "last_used_at" TIMESTAMPTZ(3),
    "revoked_at" TIMESTAMPTZ(3),
    "expires_at" TIMESTAMPTZ(3),

    CONSTRAINT "api_tokens_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "join_tokens" (
    "id" TEXT NOT NULL,
    "token_hash" TEXT NOT NULL,
    "created_by_id" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "expires_at" TIMESTAMPTZ(3) NOT NULL,
    "used_at" TIMESTAMPTZ(3),
    "used_by_host_id" TEXT,
    "labels" JSONB NOT NULL DEFAULT '{}',

    CONSTRAINT "join_tokens_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "hosts" (
    "id" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "status" "host_status" NOT NULL DEFAULT 'offline',
    "draining" BOOLEAN NOT NULL DEFAULT false,
    "labels" JSONB NOT NULL DEFAULT '{}',
    "facts" JSONB NOT NULL DEFAULT '{}',
    "credential_hash" TEXT,
    "agent_version" TEXT,
    "cpu_capacity_millis" INTEGER NOT NULL DEFAULT 0,
    "memory_capacity_bytes" BIGINT NOT NULL DEFAULT 0,
    "pids_capacity" INTEGER NOT NULL DEFAULT 0,
    "cpu_allocatable_millis" INTEGER NOT NULL DEFAULT 0,
    "memory_allocatable_bytes" BIGINT NOT NULL DEFAULT 0,
    "pids_allocatable" INTEGER NOT NULL DEFAULT 0,
    "cpu_allocated_millis" INTEGER NOT NULL DEFAULT 0,
    "memory_allocated_bytes" BIGINT NOT NULL DEFAULT 0,
    "pids_allocated" INTEGER NOT NULL DEFAULT 0,
    "desired_generation" INTEGER NOT NULL DEFAULT 0,
    "acked_generation" INTEGER NOT NULL DEFAULT 0,
    "last_seen_at" TIMESTAMPTZ(3),
    "connected_at" TIMESTAMPTZ(3),
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,
    "removed_at" TIMESTAMPTZ(3),

    CONSTRAINT "hosts_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "host_images" (
    "host_id" TEXT NOT NULL,
    "image_id" TEXT NOT NULL,
    "repo_tags" TEXT[],
    "repo_digests" TEXT[],
    "size_bytes" BIGINT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL,
    "seen_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "host_images_pkey" PRIMARY KEY ("host_id","image_id")
);

-- CreateTable
CREATE TABLE "deployments" (
    "id" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "spec" JSONB NOT NULL,
    "replicas" INTEGER NOT NULL,
    "strategy" "placement_strategy" NOT NULL DEFAULT 'binpack',
    "constraints" TEXT NOT NULL DEFAULT '',
    "image_digest" TEXT,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,
    "removed_at" TIMESTAMPTZ(3),

    CONSTRAINT "deployments_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "containers" (
    "id" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "deployment_id" TEXT,
    "replica_index" INTEGER,
    "host_id" TEXT,
    "image" TEXT NOT NULL,
    "image_digest" TEXT,
    "spec" JSONB NOT NULL,
    "cpu_request_millis" INTEGER NOT NULL,
    "cpu_limit_millis" INTEGER,
    "memory_request_bytes" BIGINT NOT NULL,
    "memory_limit_bytes" BIGINT,
    "pids_request" INTEGER NOT NULL,
    "pids_limit" INTEGER,
    "restart_policy" "restart_policy" NOT NULL DEFAULT 'no',
    "restart_max_retries" INTEGER,
    "desired_state" "container_desired_state" NOT NULL DEFAULT 'running',
    "actual_state" "container_actual_state" NOT NULL DEFAULT 'pending',
    "exit_code" INTEGER,
    "oom_killed" BOOLEAN NOT NULL DEFAULT false,
    "oom_kill_count" INTEGER NOT NULL DEFAULT 0,
    "restart_count" INTEGER NOT NULL DEFAULT 0,
    "engine_id" TEXT,
    "status_message" TEXT,
    "placement_reason" TEXT NOT NULL DEFAULT '',
    "strategy" "placement_strategy" NOT NULL DEFAULT 'binpack',
    "constraints" TEXT NOT NULL DEFAULT '',
    "requested_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "scheduled_at" TIMESTAMPTZ(3),
    "started_at" TIMESTAMPTZ(3),
    "running_reported_at" TIMESTAMPTZ(3),
    "finished_at" TIMESTAMPTZ(3),
    "start_latency_ms" INTEGER,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,
    "removed_at" TIMESTAMPTZ(3),

    CONSTRAINT "containers_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "events" (
    "id" BIGSERIAL NOT NULL,
    "ts" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "kind" TEXT NOT NULL,
    "severity" "event_severity" NOT NULL DEFAULT 'info',
    "host_id" TEXT,
    "container_id" TEXT,
    "deployment_id" TEXT,
    "message" TEXT NOT NULL,
    "data" JSONB NOT NULL DEFAULT '{}',

    CONSTRAINT "events_pkey" PRIMARY KEY ("id")
);

-- CreateTable
-- Partitioned by day on ts (not expressible in schema.prisma): retention drops
-- whole partitions instead of deleting rows. The primary key must include ts.
CREATE TABLE "container_samples" (
    "container_id" TEXT NOT NULL,
    "host_id" TEXT NOT NULL,
    "ts" TIMESTAMPTZ(3) NOT NULL,
    "cpu_cores" DOUBLE PRECISION NOT NULL,
    "cpu_throttled_periods" BIGINT NOT NULL,
    "cpu_throttled_ns" BIGINT NOT NULL,
    "memory_usage_bytes" BIGINT NOT NULL,
    "memory_working_set_bytes" BIGINT NOT NULL,
    "memory_limit_bytes" BIGINT,
    "memory_failcnt" BIGINT NOT NULL,
    "oom_kills" INTEGER NOT NULL,
    "pids_current" INTEGER NOT NULL,
    "pids_limit" INTEGER,
    "net_rx_bytes" BIGINT NOT NULL,
    "net_tx_bytes" BIGINT NOT NULL,
    "net_rx_packets" BIGINT NOT NULL,
    "net_tx_packets" BIGINT NOT NULL,
    "blk_read_bytes" BIGINT NOT NULL,
    "blk_write_bytes" BIGINT NOT NULL,

    CONSTRAINT "container_samples_pkey" PRIMARY KEY ("container_id","ts")
) PARTITION BY RANGE ("ts");

-- CreateTable (partition)
-- Catches every sample whose day has no partition yet, so ingest never fails.
CREATE TABLE "container_samples_default" PARTITION OF "container_samples" DEFAULT;

-- CreateTable
-- Partitioned by day on ts (not expressible in schema.prisma): retention drops
-- whole partitions instead of deleting rows. The primary key must include ts.
CREATE TABLE "host_samples" (
    "host_id" TEXT NOT NULL,
    "ts" TIMESTAMPTZ(3) NOT NULL,
    "cpu_cores" DOUBLE PRECISION NOT NULL,
    "cpu_count" INTEGER NOT NULL,
    "memory_total_bytes" BIGINT NOT NULL,
    "memory_available_bytes" BIGINT NOT NULL,
    "memory_used_bytes" BIGINT NOT NULL,
    "load1" DOUBLE PRECISION NOT NULL,
    "load5" DOUBLE PRECISION NOT NULL,
    "load15" DOUBLE PRECISION NOT NULL,
    "disk_total_bytes" BIGINT NOT NULL,
    "disk_free_bytes" BIGINT NOT NULL,
    "containers" INTEGER NOT NULL,

    CONSTRAINT "host_samples_pkey" PRIMARY KEY ("host_id","ts")
) PARTITION BY RANGE ("ts");

-- CreateTable (partition)
-- Catches every sample whose day has no partition yet, so ingest never fails.
CREATE TABLE "host_samples_default" PARTITION OF "host_samples" DEFAULT;

-- CreateTable
CREATE TABLE "container_samples_minute" (
    "container_id" TEXT NOT NULL,
    "host_id" TEXT NOT NULL,
    "bucket" TIMESTAMPTZ(3) NOT NULL,
    "sample_count" INTEGER NOT NULL,
    "cpu_cores_avg" DOUBLE PRECISION NOT NULL,
    "cpu_cores_max" DOUBLE PRECISION NOT NULL,
    "memory_usage_bytes_avg" BIGINT NOT NULL,
    "memory_usage_bytes_max" BIGINT NOT NULL,
    "memory_working_set_bytes_avg" BIGINT NOT NULL,
    "memory_working_set_bytes_max" BIGINT NOT NULL,
    "memory_limit_bytes_max" BIGINT,
    "pids_current_max" INTEGER NOT NULL,
    "cpu_throttled_periods_delta" BIGINT NOT NULL,
    "cpu_throttled_ns_delta" BIGINT NOT NULL,
    "memory_failcnt_delta" BIGINT NOT NULL,
    "oom_kills_delta" INTEGER NOT NULL,
    "cpu_throttled_periods_last" BIGINT NOT NULL,
    "cpu_throttled_ns_last" BIGINT NOT NULL,
    "memory_failcnt_last" BIGINT NOT NULL,
    "oom_kills_last" INTEGER NOT NULL,
    "net_rx_bytes_last" BIGINT NOT NULL,
    "net_tx_bytes_last" BIGINT NOT NULL,
    "net_rx_packets_last" BIGINT NOT NULL,
    "net_tx_packets_last" BIGINT NOT NULL,
    "blk_read_bytes_last" BIGINT NOT NULL,
    "blk_write_bytes_last" BIGINT NOT NULL,

    CONSTRAINT "container_samples_minute_pkey" PRIMARY KEY ("container_id","bucket")
);

-- CreateTable
CREATE TABLE "container_samples_hour" (
    "container_id" TEXT NOT NULL,
    "host_id" TEXT NOT NULL,
    "bucket" TIMESTAMPTZ(3) NOT NULL,
    "sample_count" INTEGER NOT NULL,
    "cpu_cores_avg" DOUBLE PRECISION NOT NULL,
    "cpu_cores_max" DOUBLE PRECISION NOT NULL,
    "memory_usage_bytes_avg" BIGINT NOT NULL,
    "memory_usage_bytes_max" BIGINT NOT NULL,
    "memory_working_set_bytes_avg" BIGINT NOT NULL,
    "memory_working_set_bytes_max" BIGINT NOT NULL,
    "memory_limit_bytes_max" BIGINT,
    "pids_current_max" INTEGER NOT NULL,
    "cpu_throttled_periods_delta" BIGINT NOT NULL,
    "cpu_throttled_ns_delta" BIGINT NOT NULL,
    "memory_failcnt_delta" BIGINT NOT NULL,
    "oom_kills_delta" INTEGER NOT NULL,
    "cpu_throttled_periods_last" BIGINT NOT NULL,
    "cpu_throttled_ns_last" BIGINT NOT NULL,
    "memory_failcnt_last" BIGINT NOT NULL,
    "oom_kills_last" INTEGER NOT NULL,
    "net_rx_bytes_last" BIGINT NOT NULL,
    "net_tx_bytes_last" BIGINT NOT NULL,
    "net_rx_packets_last" BIGINT NOT NULL,
    "net_tx_packets_last" BIGINT NOT NULL,
    "blk_read_bytes_last" BIGINT NOT NULL,
    "blk_write_bytes_last" BIGINT NOT NULL,

    CONSTRAINT "container_samples_hour_pkey" PRIMARY KEY ("container_id","bucket")
);

-- CreateTable
CREATE TABLE "host_samples_minute" (
    "host_id" TEXT NOT NULL,
    "bucket" TIMESTAMPTZ(3) NOT NULL,
    "sample_count" INTEGER NOT NULL,
    "cpu_cores_avg" DOUBLE PRECISION NOT NULL,
    "cpu_cores_max" DOUBLE PRECISION NOT NULL,
    "cpu_count" INTEGER NOT NULL,
    "memory_total_bytes" BIGINT NOT NULL,
    "memory_used_bytes_avg" BIGINT NOT NULL,
    "memory_used_bytes_max" BIGINT NOT NULL,
    "memory_available_bytes_min" BIGINT NOT NULL,
    "load1_avg" DOUBLE PRECISION NOT NULL,
    "load1_max" DOUBLE PRECISION NOT NULL,
    "load5_avg" DOUBLE PRECISION NOT NULL,
    "load15_avg" DOUBLE PRECISION NOT NULL,
    "disk_total_bytes" BIGINT NOT NULL,
    "disk_free_bytes_min" BIGINT NOT NULL,
    "containers_avg" DOUBLE PRECISION NOT NULL,
    "containers_max" INTEGER NOT NULL,

    CONSTRAINT "host_samples_minute_pkey" PRIMARY KEY ("host_id","bucket")
);

-- CreateTable
CREATE TABLE "host_samples_hour" (
    "host_id" TEXT NOT NULL,
    "bucket" TIMESTAMPTZ(3) NOT NULL,
    "sample_count" INTEGER NOT NULL,
    "cpu_cores_avg" DOUBLE PRECISION NOT NULL,
    "cpu_cores_max" DOUBLE PRECISION NOT NULL,
    "cpu_count" INTEGER NOT NULL,
    "memory_total_bytes" BIGINT NOT NULL,
    "memory_used_bytes_avg" BIGINT NOT NULL,
    "memory_used_bytes_max" BIGINT NOT NULL,
    "memory_available_bytes_min" BIGINT NOT NULL,
    "load1_avg" DOUBLE PRECISION NOT NULL,
    "load1_max" DOUBLE PRECISION NOT NULL,
    "load5_avg" DOUBLE PRECISION NOT NULL,
    "load15_avg" DOUBLE PRECISION NOT NULL,
    "disk_total_bytes" BIGINT NOT NULL,
    "disk_free_bytes_min" BIGINT NOT NULL,
    "containers_avg" DOUBLE PRECISION NOT NULL,
    "containers_max" INTEGER NOT NULL,

    CONSTRAINT "host_samples_hour_pkey" PRIMARY KEY ("host_id","bucket")
);

-- CreateIndex
CREATE UNIQUE INDEX "users_email_key" ON "users"("email");

-- CreateIndex
CREATE INDEX "sessions_user_id_idx" ON "sessions"("user_id");

-- CreateIndex
CREATE INDEX "sessions_expires_at_idx" ON "sessions"("expires_at");

-- CreateIndex
CREATE UNIQUE INDEX "api_tokens_token_hash_key" ON "api_tokens"("token_hash");

-- CreateIndex
CREATE INDEX "api_tokens_user_id_idx" ON "api_tokens"("user_id");

-- CreateIndex
CREATE UNIQUE INDEX "join_tokens_token_hash_key" ON "join_tokens"("token_hash");

-- CreateIndex
CREATE INDEX "join_tokens_created_by_id_idx" ON "join_tokens"("created_by_id");

-- CreateIndex
CREATE INDEX "join_tokens_used_by_host_id_idx" ON "join_tokens"("used_by_host_id");

-- CreateIndex
CREATE UNIQUE INDEX "hosts_name_key" ON "hosts"("name");

-- CreateIndex
CREATE UNIQUE INDEX "hosts_credential_hash_key" ON "hosts"("credential_hash");

-- CreateIndex
CREATE INDEX "hosts_status_idx" ON "hosts"("status");

-- CreateIndex
CREATE UNIQUE INDEX "deployments_name_key" ON "deployments"("name");

-- CreateIndex
CREATE INDEX "containers_created_at_id_idx" ON "containers"("created_at", "id");

-- CreateIndex
CREATE INDEX "containers_host_id_created_at_id_idx" ON "containers"("host_id", "created_at", "id");

-- CreateIndex
CREATE INDEX "containers_actual_state_created_at_id_idx" ON "containers"("actual_state", "created_at", "id");

-- CreateIndex
-- Not expressible in schema.prisma: a name is unique only among containers not
-- yet removed, so a removed container's name can be reused.
CREATE UNIQUE INDEX "containers_name_live_key" ON "containers"("name") WHERE "removed_at" IS NULL;

-- CreateIndex
CREATE INDEX "containers_name_idx" ON "containers"("name");

-- CreateIndex
CREATE INDEX "containers_deployment_id_replica_index_idx" ON "containers"("deployment_id", "replica_index");

-- CreateIndex
CREATE INDEX "events_ts_idx" ON "events"("ts");

-- CreateIndex
CREATE INDEX "events_host_id_ts_idx" ON "events"("host_id", "ts");

-- CreateIndex
CREATE INDEX "events_container_id_ts_idx" ON "events"("container_id", "ts");

-- CreateIndex
CREATE INDEX "container_samples_host_id_ts_idx" ON "container_samples"("host_id", "ts");

-- CreateIndex
CREATE INDEX "container_samples_minute_host_id_bucket_idx" ON "container_samples_minute"("host_id", "bucket");

-- CreateIndex
CREATE INDEX "container_samples_minute_bucket_idx" ON "container_samples_minute"("bucket");

-- CreateIndex
CREATE INDEX "container_samples_hour_host_id_bucket_idx" ON "container_samples_hour"("host_id", "bucket");

-- CreateIndex
CREATE INDEX "container_samples_hour_bucket_idx" ON "container_samples_hour"("bucket");

-- CreateIndex
CREATE INDEX "host_samples_minute_bucket_idx" ON "host_samples_minute"("bucket");

-- CreateIndex
CREATE INDEX "host_samples_hour_bucket_idx" ON "host_samples_hour"("bucket");

-- AddForeignKey
ALTER TABLE "sessions" ADD CONSTRAINT "sessions_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "api_tokens" ADD CONSTRAINT "api_tokens_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "join_tokens" ADD CONSTRAINT "join_tokens_created_by_id_fkey" FOREIGN KEY ("created_by_id") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "join_tokens" ADD CONSTRAINT "join_tokens_used_by_host_id_fkey" FOREIGN KEY ("used_by_host_id") REFERENCES "hosts"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "host_images" ADD CONSTRAINT "host_images_host_id_fkey" FOREIGN KEY ("host_id") REFERENCES "hosts"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "containers" ADD CONSTRAINT "containers_deployment_id_fkey" FOREIGN KEY ("deployment_id") REFERENCES "deployments"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "containers" ADD CONSTRAINT "containers_host_id_fkey" FOREIGN KEY ("host_id") REFERENCES "hosts"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- CreateFunction
-- Creates the missing daily partitions <parent>_pYYYYMMDD for from_day and the
-- days - 1 days after it, with bounds at midnight UTC, and returns the names it
-- created. Idempotent: the central calls it at startup and daily, e.g.
--   SELECT * FROM fleet_ensure_daily_partitions('container_samples', current_date, 3);
-- Samples that arrived before their day's partition existed sit in the DEFAULT
-- partition; Postgres refuses to create a partition whose range the default
-- still holds rows for, so for such a day the rows are moved: a plain table is
-- created, the day's rows are deleted from the default partition into it, and
-- it is attached (ATTACH builds the parent's indexes on it).
-- The parent is locked ACCESS EXCLUSIVE before the default partition, the
-- order in which inserts lock them, so writers wait briefly instead of
-- deadlocking; the lock is taken only when some partition is missing, and it
-- also serialises concurrent callers.
CREATE FUNCTION "fleet_ensure_daily_partitions"("parent" TEXT, "from_day" DATE, "days" INTEGER)
RETURNS SETOF TEXT
LANGUAGE plpgsql
AS $$
DECLARE
    parent_ns   OID := current_schema()::regnamespace;
    parent_oid  OID;
    default_oid OID;
    day         DATE;
    part_name   TEXT;
    lower_bound TEXT;
    upper_bound TEXT;
    has_rows    BOOLEAN;
BEGIN
    IF days IS NULL OR days < 0 OR days > 366 THEN
        RAISE EXCEPTION 'fleet_ensure_daily_partitions: days must be between 0 and 366, got %', days;
    END IF;

    SELECT c.oid INTO parent_oid
    FROM pg_class c
    JOIN pg_partitioned_table p ON p.partrelid = c.oid
    WHERE c.relname = parent AND c.relnamespace = parent_ns;
    IF parent_oid IS NULL THEN
        RAISE EXCEPTION 'fleet_ensure_daily_partitions: "%" is not a partitioned table in schema "%"', parent, current_schema();
    END IF;
    IF pg_get_partkeydef(parent_oid) <> 'RANGE (ts)' THEN
        RAISE EXCEPTION 'fleet_ensure_daily_partitions: "%" must be partitioned by RANGE (ts), is %', parent, pg_get_partkeydef(parent_oid);
    END IF;

    IF NOT EXISTS (
        SELECT 1 FROM generate_series(0, days - 1) AS i
        WHERE NOT EXISTS (
            SELECT 1 FROM pg_class
            WHERE relnamespace = parent_ns
              AND relname = parent || '_p' || to_char(from_day + i, 'YYYYMMDD')
        )
    ) THEN
        RETURN;
    END IF;

    EXECUTE format('LOCK TABLE %s IN ACCESS EXCLUSIVE MODE', parent_oid::regclass);
    SELECT NULLIF(partdefid, 0) INTO default_oid FROM pg_partitioned_table WHERE partrelid = parent_oid;
    IF default_oid IS NOT NULL THEN
        EXECUTE format('LOCK TABLE %s IN ACCESS EXCLUSIVE MODE', default_oid::regclass);
    END IF;

    FOR i IN 0 .. days - 1 LOOP
        day := from_day + i;
        part_name := parent || '_p' || to_char(day, 'YYYYMMDD');
        -- Checked again under the lock: a concurrent caller may have made it.
        CONTINUE WHEN EXISTS (SELECT 1 FROM pg_class WHERE relnamespace = parent_ns AND relname = part_name);

        lower_bound := to_char(day, 'YYYY-MM-DD') || ' 00:00:00+00';
        upper_bound := to_char(day + 1, 'YYYY-MM-DD') || ' 00:00:00+00';
        has_rows := FALSE;
        IF default_oid IS NOT NULL THEN
            EXECUTE format('SELECT EXISTS (SELECT 1 FROM %s WHERE ts >= %L AND ts < %L)',
                           default_oid::regclass, lower_bound, upper_bound)
            INTO has_rows;
        END IF;

        IF has_rows THEN
            EXECUTE format('CREATE TABLE %I.%I (LIKE %s INCLUDING DEFAULTS)',
                           current_schema(), part_name, parent_oid::regclass);
            EXECUTE format('WITH moved AS (DELETE FROM %s WHERE ts >= %L AND ts < %L RETURNING *) '
                           'INSERT INTO %I.%I SELECT * FROM moved',
                           default_oid::regclass, lower_bound, upper_bound, current_schema(), part_name);
            EXECUTE format('ALTER TABLE %s ATTACH PARTITION %I.%I FOR VALUES FROM (%L) TO (%L)',
                           parent_oid::regclass, current_schema(), part_name, lower_bound, upper_bound);
        ELSE
            EXECUTE format('CREATE TABLE %I.%I PARTITION OF %s FOR VALUES FROM (%L) TO (%L)',
                           current_schema(), part_name, parent_oid::regclass, lower_bound, upper_bound);
        END IF;
        RETURN NEXT part_name;
    END LOOP;
END;
$$;

-- CreateFunction
-- Retention for the raw sample tables: drops every daily partition of parent
-- whose day is before before_day and deletes older rows that sit in the
-- DEFAULT partition. Returns the names of the partitions it dropped.
CREATE FUNCTION "fleet_drop_daily_partitions"("parent" TEXT, "before_day" DATE)
RETURNS SETOF TEXT
LANGUAGE plpgsql
AS $$
DECLARE
    parent_ns   OID := current_schema()::regnamespace;
    parent_oid  OID;
    default_oid OID;
    part        RECORD;
    locked      BOOLEAN := FALSE;
BEGIN
    SELECT c.oid INTO parent_oid
    FROM pg_class c
    JOIN pg_partitioned_table p ON p.partrelid = c.oid
    WHERE c.relname = parent AND c.relnamespace = parent_ns;
    IF parent_oid IS NULL THEN
        RAISE EXCEPTION 'fleet_drop_daily_partitions: "%" is not a partitioned table in schema "%"', parent, current_schema();
    END IF;

    FOR part IN
        SELECT c.oid, c.relname
        FROM pg_inherits i
        JOIN pg_class c ON c.oid = i.inhrelid
        WHERE i.inhparent = parent_oid
          AND length(c.relname) = length(parent) + 10
          AND starts_with(c.relname, parent || '_p')
          AND CASE WHEN right(c.relname, 8) ~ '^[0-9]{8}$'
                   THEN to_date(right(c.relname, 8), 'YYYYMMDD') < before_day
                   ELSE FALSE
              END
        ORDER BY c.relname
    LOOP
        IF NOT locked THEN
            -- Parent first, as inserts lock it, so writers wait instead of deadlocking.
            EXECUTE format('LOCK TABLE %s IN ACCESS EXCLUSIVE MODE', parent_oid::regclass);
            locked := TRUE;
        END IF;
        EXECUTE format('DROP TABLE %s', part.oid::regclass);
        RETURN NEXT part.relname;
    END LOOP;

    SELECT NULLIF(partdefid, 0) INTO default_oid FROM pg_partitioned_table WHERE partrelid = parent_oid;
    IF default_oid IS NOT NULL THEN
        EXECUTE format('DELETE FROM %s WHERE ts < %L',
                       default_oid::regclass, to_char(before_day, 'YYYY-MM-DD') || ' 00:00:00+00');
    END IF;
END;
$$;
