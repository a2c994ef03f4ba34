-- Several central replicas on one database. Each replica registers itself and
-- keeps a heartbeat; the duties that must run once per fleet (liveness,
-- rescheduling, rollouts, rollups, retention) are held under a lease with a
-- fencing token; a host row names the replica holding its agent's connection
-- and that connection's epoch, so a stale replica can no longer write for it.
-- Expand only: older replicas ignore the new columns and tables.

-- CreateTable
CREATE TABLE "central_replicas" (
    "id" TEXT NOT NULL,
    "internal_url" TEXT NOT NULL,
    "version" TEXT NOT NULL,
    "started_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "heartbeat_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "stopping" BOOLEAN NOT NULL DEFAULT false,

    CONSTRAINT "central_replicas_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "duty_leases" (
    "name" TEXT NOT NULL,
    "holder" TEXT NOT NULL,
    "token" BIGINT NOT NULL,
    "acquired_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "expires_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "duty_leases_pkey" PRIMARY KEY ("name")
);

-- CreateTable
CREATE TABLE "cluster_secrets" (
    "name" TEXT NOT NULL,
    "value" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "cluster_secrets_pkey" PRIMARY KEY ("name")
);

-- AlterTable
ALTER TABLE "hosts" ADD COLUMN "connected_replica" TEXT,
ADD COLUMN "connection_epoch" INTEGER NOT NULL DEFAULT 0;

-- CreateIndex
CREATE INDEX "hosts_connected_replica_idx" ON "hosts"("connected_replica");
