"use client";
import { usePathname, useRouter, useSearchParams } from "next/navigation";
import { Suspense, useCallback, useMemo } from "react";
import {
  hostObjectFilterQuery,
  hostObjectListInput,
  parseHostObjectFilter,
  type THostObjectFilter,
} from "@/client/host-objects/host-object-filter";
import { HostObjectFilters } from "@/client/host-objects/host-object-filters";
import styles from "@/client/host-objects/host-objects.module.css";
import { useCan } from "@/client/session";
import { PageHeader } from "@/client/ui/page-header";
import {
  CreateVolume,
  RefreshVolumesButton,
  RefreshVolumesResult,
  useRefreshVolumes,
} from "@/client/volumes/volume-actions";
import { VolumesList } from "@/client/volumes/volumes-list";

function VolumesPage() {
  const canOperate = useCan("operator");
  const searchParams = useSearchParams();
  const filter = useMemo(() => parseHostObjectFilter(searchParams), [searchParams]);
  const router = useRouter();
  const pathname = usePathname();
  const setFilter = useCallback(
    (next: THostObjectFilter) =>
      router.replace(`${pathname}${hostObjectFilterQuery(next)}`, { scroll: false }),
    [router, pathname],
  );
  const refresh = useRefreshVolumes();
  return (
    <>
      <PageHeader
        title="Volumes"
        subtitle="Named volumes on each host: data that outlives the containers mounting it."
        actions={
          canOperate ? (
            <>
              {refresh.isSuccess ? (
                <span className="muted" aria-live="polite">
                  Asked {refresh.data.hosts.length} host{refresh.data.hosts.length === 1 ? "" : "s"}
                </span>
              ) : null}
              <RefreshVolumesButton refresh={refresh} hostId={filter.hostId} />
            </>
          ) : null
        }
      />
      <RefreshVolumesResult refresh={refresh} />
      {canOperate ? (
        <section className={`card ${styles.createCard}`} aria-labelledby="create-volume">
          <h2 id="create-volume">Create a volume</h2>
          <CreateVolume />
        </section>
      ) : null}
      <HostObjectFilters filter={filter} onChange={setFilter} label="volumes" />
      {/* Keyed by the filter, so a new filter starts again at page 1. */}
      <VolumesList key={JSON.stringify(hostObjectListInput(filter))} filter={filter} clearHref={pathname} />
    </>
  );
}

export default function Page() {
  return (
    <Suspense fallback={<p className="muted">Loading…</p>}>
      <VolumesPage />
    </Suspense>
  );
}
