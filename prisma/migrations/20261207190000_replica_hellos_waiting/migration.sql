-- How many agents' hellos wait at each replica to be welcomed, written with its
-- heartbeat. While a fleet's agents queue to get in (their replica died or
-- stopped and they moved to another), the offline sweep gives silent hosts the
-- longer grace instead of marking them offline and rescheduling their
-- containers. Expand only: an older replica writes nothing here (0).

-- AlterTable
ALTER TABLE "central_replicas" ADD COLUMN "hellos_waiting" INTEGER NOT NULL DEFAULT 0;
