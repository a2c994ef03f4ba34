-- A deployment's name is unique only among deployments not yet removed, as
-- for containers: removing "web" frees the name for a new "web" while the
-- removed row keeps its history. Not expressible in schema.prisma (partial
-- index); the plain index below is what the schema declares.

-- DropIndex
DROP INDEX "deployments_name_key";

-- CreateIndex
CREATE UNIQUE INDEX "deployments_name_live_key" ON "deployments"("name") WHERE "removed_at" IS NULL;

-- CreateIndex
CREATE INDEX "deployments_name_idx" ON "deployments"("name");
