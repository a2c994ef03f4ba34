-- Volumes and networks per host, fleet-wide settings, the ports a container
-- published and the address its host connects from.

-- AlterTable
ALTER TABLE "hosts" ADD COLUMN "address" TEXT;

-- AlterTable
ALTER TABLE "containers" ADD COLUMN "published_ports" JSONB NOT NULL DEFAULT '[]';

-- CreateTable
CREATE TABLE "host_volumes" (
    "id" TEXT NOT NULL,
    "host_id" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "driver" TEXT NOT NULL DEFAULT 'local',
    "size_bytes" BIGINT,
    "labels" JSONB NOT NULL DEFAULT '{}',
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "seen_at" TIMESTAMPTZ(3),

    CONSTRAINT "host_volumes_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "host_networks" (
    "id" TEXT NOT NULL,
    "host_id" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "engine_id" TEXT,
    "driver" TEXT NOT NULL DEFAULT 'bridge',
    "internal" BOOLEAN NOT NULL DEFAULT false,
    "subnet" TEXT,
    "gateway" TEXT,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "seen_at" TIMESTAMPTZ(3),

    CONSTRAINT "host_networks_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "settings" (
    "key" TEXT NOT NULL,
    "value" JSONB NOT NULL,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,
    "updated_by_id" TEXT,

    CONSTRAINT "settings_pkey" PRIMARY KEY ("key")
);

-- CreateIndex
CREATE INDEX "host_volumes_name_idx" ON "host_volumes"("name");

-- CreateIndex
CREATE UNIQUE INDEX "host_volumes_host_id_name_key" ON "host_volumes"("host_id", "name");

-- CreateIndex
CREATE INDEX "host_networks_name_idx" ON "host_networks"("name");

-- CreateIndex
CREATE UNIQUE INDEX "host_networks_host_id_name_key" ON "host_networks"("host_id", "name");

-- AddForeignKey
ALTER TABLE "host_volumes" ADD CONSTRAINT "host_volumes_host_id_fkey" FOREIGN KEY ("host_id") REFERENCES "hosts"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "host_networks" ADD CONSTRAINT "host_networks_host_id_fkey" FOREIGN KEY ("host_id") REFERENCES "hosts"("id") ON DELETE CASCADE ON UPDATE CASCADE;
