-- Deployments gain revisions (immutable specs with a one-line diff), an
-- update policy and rollouts kept as rows, so a restarted central resumes a
-- rollout where it stopped. Every existing deployment becomes revision 1 and
-- its live replicas are marked as made from it.

-- AlterTable
ALTER TABLE "deployments" ADD COLUMN "revision" INTEGER NOT NULL DEFAULT 1,
ADD COLUMN "update_policy" JSONB NOT NULL DEFAULT '{}';

-- AlterTable
ALTER TABLE "containers" ADD COLUMN "revision" INTEGER;

-- CreateTable
CREATE TABLE "deployment_revisions" (
    "id" TEXT NOT NULL,
    "deployment_id" TEXT NOT NULL,
    "number" INTEGER NOT NULL,
    "spec" JSONB NOT NULL,
    "image_digest" TEXT,
    "diff" TEXT NOT NULL,
    "created_by" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "deployment_revisions_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "rollouts" (
    "id" TEXT NOT NULL,
    "deployment_id" TEXT NOT NULL,
    "from_revision" INTEGER,
    "to_revision" INTEGER NOT NULL,
    "state" TEXT NOT NULL,
    "reason" TEXT,
    "policy" JSONB NOT NULL,
    "promoted" BOOLEAN NOT NULL DEFAULT false,
    "created_by" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,
    "progress_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "finished_at" TIMESTAMPTZ(3),

    CONSTRAINT "rollouts_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "rollout_steps" (
    "id" TEXT NOT NULL,
    "rollout_id" TEXT NOT NULL,
    "replica_index" INTEGER NOT NULL,
    "old_container_id" TEXT,
    "new_container_id" TEXT,
    "order" TEXT NOT NULL,
    "canary" BOOLEAN NOT NULL DEFAULT false,
    "state" TEXT NOT NULL,
    "reason" TEXT,
    "started_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "old_removed_at" TIMESTAMPTZ(3),
    "finished_at" TIMESTAMPTZ(3),

    CONSTRAINT "rollout_steps_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "deployment_revisions_deployment_id_number_key" ON "deployment_revisions"("deployment_id", "number");

-- CreateIndex
CREATE INDEX "rollouts_deployment_id_created_at_idx" ON "rollouts"("deployment_id", "created_at");

-- CreateIndex
CREATE INDEX "rollouts_state_idx" ON "rollouts"("state");

-- CreateIndex
CREATE INDEX "rollout_steps_rollout_id_replica_index_idx" ON "rollout_steps"("rollout_id", "replica_index");

-- AddForeignKey
ALTER TABLE "deployment_revisions" ADD CONSTRAINT "deployment_revisions_deployment_id_fkey" FOREIGN KEY ("deployment_id") REFERENCES "deployments"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "rollouts" ADD CONSTRAINT "rollouts_deployment_id_fkey" FOREIGN KEY ("deployment_id") REFERENCES "deployments"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "rollout_steps" ADD CONSTRAINT "rollout_steps_rollout_id_fkey" FOREIGN KEY ("rollout_id") REFERENCES "rollouts"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- Existing deployments: their spec is revision 1, and so is every live replica.
INSERT INTO "deployment_revisions" ("id", "deployment_id", "number", "spec", "image_digest", "diff", "created_by", "created_at")
SELECT gen_random_uuid()::text, "id", 1, "spec", "image_digest", 'created', 'migration', "created_at" FROM "deployments";

UPDATE "containers" SET "revision" = 1 WHERE "deployment_id" IS NOT NULL;
