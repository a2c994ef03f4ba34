-- Indexes for the dashboard's sorts and filters at fleet scale (2,000 hosts,
-- 100,000 containers, millions of events): every sort of the container list
-- ends in the columns its keyset cursor carries, so a page is a short index
-- scan, and the event list's host and deployment filters read newest ids
-- first instead of sorting all of a subject's events.

-- The container list by name: ties (names of removed containers) by id.
DROP INDEX "containers_name_idx";
CREATE INDEX "containers_name_id_idx" ON "containers"("name", "id");

-- The container list by requested CPU or memory, ties by creation.
CREATE INDEX "containers_cpu_request_millis_created_at_id_idx" ON "containers"("cpu_request_millis", "created_at", "id");
CREATE INDEX "containers_memory_request_bytes_created_at_id_idx" ON "containers"("memory_request_bytes", "created_at", "id");

-- The event list filtered by host or deployment, newest (highest id) first.
CREATE INDEX "events_host_id_id_idx" ON "events"("host_id", "id");
CREATE INDEX "events_deployment_id_id_idx" ON "events"("deployment_id", "id");
