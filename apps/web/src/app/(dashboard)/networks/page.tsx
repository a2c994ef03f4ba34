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
import {
  CreateNetwork,
  RefreshNetworksButton,
  RefreshNetworksResult,
  useRefreshNetworks,
} from "@/client/networks/network-actions";
import { NetworksList } from "@/client/networks/networks-list";
import { useCan } from "@/client/session";
import { PageHeader } from "@/client/ui/page-header";

function NetworksPage() {
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
  const refresh = useRefreshNetworks();
  return (
    <>
      <PageHeader
        title="Networks"
        subtitle="User-defined networks on each host: containers on one reach each other by name."
        actions={
          canOperate ? (
            <>
              {refresh.isSuccess ? (
                <span className="muted" aria-live="polite">
                  Asked {refresh.data.hosts.length} host{refresh.data.hosts.length === 1 ? "" : "s"}
                </span>
              ) : null}
              <RefreshNetworksButton refresh={refresh} hostId={filter.hostId} />
            </>
          ) : null
        }
      />
      <RefreshNetworksResult refresh={refresh} />
      {canOperate ? (
        <section className={`card ${styles.createCard}`} aria-labelledby="create-network">
          <h2 id="create-network">Create a network</h2>
          <CreateNetwork />
        </section>
      ) : null}
      <HostObjectFilters filter={filter} onChange={setFilter} label="networks" />
      {/* Keyed by the filter, so a new filter starts again at page 1. */}
      <NetworksList key={JSON.stringify(hostObjectListInput(filter))} filter={filter} clearHref={pathname} />
    </>
  );
}

export default function Page() {
  return (
    <Suspense fallback={<p className="muted">Loading…</p>}>
      <NetworksPage />
    </Suspense>
  );
}
