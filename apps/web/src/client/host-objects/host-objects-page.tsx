"use client";
// The page of one kind (/volumes, /networks): refresh and create for
// operators, filters kept in the query string, the fleet's list.
import { usePathname, useRouter, useSearchParams } from "next/navigation";
import { Suspense, useCallback, useMemo, useRef } from "react";
import { HostSelect, useDebouncedText } from "../containers/container-filters";
import { useCan } from "../session";
import { PageHeader } from "../ui/page-header";
import { CreateHostObject } from "./create-host-object";
import {
  RefreshHostObjectsButton,
  RefreshHostObjectsResult,
  useRefreshHostObjects,
} from "./host-object-actions";
import {
  hostObjectFilterQuery,
  hostObjectListInput,
  parseHostObjectFilter,
  type THostObjectFilter,
} from "./host-object-filter";
import type { THostObjectUiKind } from "./host-object-kind";
import styles from "./host-objects.module.css";
import { HostObjectsList } from "./host-objects-list";

/** A host select that applies at once and a name search that applies after a pause in typing. */
function HostObjectFilters({
  filter,
  onChange,
  label,
}: {
  filter: THostObjectFilter;
  onChange: (filter: THostObjectFilter) => void;
  /** What is filtered, for the search landmark: "volumes" or "networks". */
  label: string;
}) {
  const current = useRef(filter);
  current.current = filter;
  const [name, setName] = useDebouncedText(filter.name, (text) =>
    onChange({ ...current.current, name: text.trim() }),
  );
  return (
    <search className="filters" aria-label={`Filter ${label}`}>
      <HostSelect hostId={filter.hostId} onChange={(hostId) => onChange({ ...filter, hostId })} />
      <label>
        Name
        <input
          type="search"
          value={name}
          placeholder="part of a name"
          maxLength={64}
          autoComplete="off"
          spellCheck={false}
          onChange={(event) => setName(event.target.value)}
        />
      </label>
    </search>
  );
}

function HostObjectsPageBody({ kind }: { kind: THostObjectUiKind }) {
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
  const refresh = useRefreshHostObjects(kind);
  return (
    <>
      <PageHeader
        title={kind.title}
        subtitle={kind.subtitle}
        actions={
          canOperate ? (
            <>
              {refresh.isSuccess ? (
                <span className="muted" aria-live="polite">
                  Asked {refresh.data.hosts.length} host{refresh.data.hosts.length === 1 ? "" : "s"}
                </span>
              ) : null}
              <RefreshHostObjectsButton kind={kind} refresh={refresh} hostId={filter.hostId} />
            </>
          ) : null
        }
      />
      <RefreshHostObjectsResult refresh={refresh} />
      {canOperate ? (
        <section className={`card ${styles.createCard}`} aria-labelledby={`create-${kind.noun}`}>
          <h2 id={`create-${kind.noun}`}>{`Create a ${kind.noun}`}</h2>
          <CreateHostObject kind={kind} />
        </section>
      ) : null}
      <HostObjectFilters filter={filter} onChange={setFilter} label={kind.plural} />
      {/* Keyed by the filter, so a new filter starts again at page 1. */}
      <HostObjectsList
        key={JSON.stringify(hostObjectListInput(filter))}
        kind={kind}
        filter={filter}
        clearHref={pathname}
      />
    </>
  );
}

export function HostObjectsPage({ kind }: { kind: THostObjectUiKind }) {
  return (
    <Suspense fallback={<p className="muted">Loading…</p>}>
      <HostObjectsPageBody kind={kind} />
    </Suspense>
  );
}
