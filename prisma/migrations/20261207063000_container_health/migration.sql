-- The health check's verdict per container, as the agent reports it in its
-- status frames (null: no health check, or not running).

-- CreateEnum
CREATE TYPE "container_health" AS ENUM ('starting', 'healthy', 'unhealthy');

-- AlterTable
ALTER TABLE "containers" ADD COLUMN "health" "container_health",
ADD COLUMN "health_message" TEXT,
ADD COLUMN "health_changed_at" TIMESTAMPTZ(3);
