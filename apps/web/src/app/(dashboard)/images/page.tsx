"use client";
import { keepPreviousData, useQuery } from "@tanstack/react-query";
import { useState } from "react";
import { useDebouncedText } from "@/client/containers/container-filters";
import { BuildPanel } from "@/client/images/build-panel";
import { DigestsInUse } from "@/client/images/digests-in-use";
import styles from "@/client/images/images.module.css";
import { ImagesByHost } from "@/client/images/images-by-host";
import { PullPanel } from "@/client/images/pull-panel";
import { useRefreshImages } from "@/client/images/use-refresh-images";
import { useCan } from "@/client/session";
import { useTRPC } from "@/client/trpc";
import { CursorPager, useCursorPages } from "@/client/ui/cursor-pager";
import { EmptyState } from "@/client/ui/empty-state";
import { ErrorNote } from "@/client/ui/error-note";
import { PageHeader } from "@/client/ui/page-header";

const HOSTS_PER_PAGE = 25;

export default function ImagesPage() {
  const trpc = useTRPC();
  const canOperate = useCan("operator");
  // A page of hosts at a time, filtered on the server: a big fleet holds tens of thousands of images.
  const pages = useCursorPages();
  const [search, setSearch] = useState("");
  const [filterText, setFilterText] = useDebouncedText(search, (text) => {
    setSearch(text.trim());
    pages.reset();
  });
  const images = useQuery(
    trpc.image.list.queryOptions(
      { search: search || undefined, hosts: HOSTS_PER_PAGE, cursor: pages.cursor },
      { refetchInterval: 15_000, placeholderData: keepPreviousData },
    ),
  );
  const refresh = useRefreshImages();
  const refreshFailures = (refresh.data?.hosts ?? []).filter((host) => !host.ok);
  const items = images.data?.items ?? [];
  const filtered = search !== "";

  return (
    <>
      <PageHeader
        title="Images"
        subtitle="What each host's engine holds, as its agent last listed it"
        actions={
          canOperate ? (
            <>
              {refresh.isSuccess && refreshFailures.length === 0 ? (
                <span className={`muted ${styles.refreshNote}`} aria-live="polite">
                  Asked {refresh.data.hosts.length} host{refresh.data.hosts.length === 1 ? "" : "s"}
                </span>
              ) : null}
              <button type="button" onClick={() => refresh.mutate({})} disabled={refresh.isPending}>
                {refresh.isPending ? "Refreshing…" : "Refresh"}
              </button>
            </>
          ) : null
        }
      />
      <ErrorNote error={refresh.error} />
      {refreshFailures.length > 0 ? (
        <p role="alert" className="error-note">
          {refreshFailures.map((host) => `${host.hostName}: ${host.error ?? "did not answer"}`).join("\n")}
        </p>
      ) : null}

      {canOperate ? (
        <div className={`grid grid-2 ${styles.actions}`}>
          {/* Wrapped so the two cards sit side by side, not as a card under a card. */}
          <div>
            <PullPanel />
          </div>
          <div>
            <BuildPanel />
          </div>
        </div>
      ) : null}

      <ErrorNote error={images.error} />
      {images.isPending ? <p className="muted">Loading images…</p> : null}
      {images.data && items.length === 0 && !filtered && pages.page === 1 ? (
        <div className="card">
          <EmptyState title="No images yet">
            <p>
              {canOperate
                ? "Pull or build one above, or Refresh to ask the hosts what their engines already hold."
                : "Images appear here once an operator pulls or builds them, or a container starts."}
            </p>
          </EmptyState>
        </div>
      ) : null}
      {items.length > 0 || filtered ? (
        <>
          <div className="filters">
            <label>
              Filter
              <input
                type="search"
                value={filterText}
                onChange={(event) => setFilterText(event.target.value)}
                placeholder="tag, id or host"
                maxLength={256}
                autoComplete="off"
                spellCheck={false}
              />
            </label>
          </div>
          {items.length === 0 ? <p className="muted">No image matches “{search}”.</p> : null}
          <ImagesByHost images={items} canOperate={canOperate} />
          <CursorPager
            pages={pages}
            nextCursor={images.data?.nextCursor}
            shown={new Set(items.map((image) => image.hostId)).size}
          />
        </>
      ) : null}
      <DigestsInUse />
    </>
  );
}
