"use client";
import { useQuery } from "@tanstack/react-query";
import { useState } from "react";
import { BuildPanel } from "@/client/images/build-panel";
import { DigestsInUse } from "@/client/images/digests-in-use";
import styles from "@/client/images/images.module.css";
import { ImagesByHost } from "@/client/images/images-by-host";
import { PullPanel } from "@/client/images/pull-panel";
import { useRefreshImages } from "@/client/images/use-refresh-images";
import { useCan } from "@/client/session";
import { useTRPC } from "@/client/trpc";
import { EmptyState } from "@/client/ui/empty-state";
import { ErrorNote } from "@/client/ui/error-note";
import { PageHeader } from "@/client/ui/page-header";

export default function ImagesPage() {
  const trpc = useTRPC();
  const canOperate = useCan("operator");
  const [filter, setFilter] = useState("");
  const images = useQuery(trpc.image.list.queryOptions({}, { refetchInterval: 15_000 }));
  const refresh = useRefreshImages();
  const refreshFailures = (refresh.data?.hosts ?? []).filter((host) => !host.ok);
  const items = images.data?.items ?? [];
  const hostCount = new Set(items.map((image) => image.hostId)).size;

  return (
    <>
      <PageHeader
        title="Images"
        subtitle={
          images.data
            ? `${items.length} image${items.length === 1 ? "" : "s"} on ${hostCount} host${hostCount === 1 ? "" : "s"}, as the agents last listed them`
            : "What each host's engine holds"
        }
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
      {images.data && items.length === 0 ? (
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
      {items.length > 0 ? (
        <>
          <div className="filters">
            <label>
              Filter
              <input
                type="search"
                value={filter}
                onChange={(event) => setFilter(event.target.value)}
                placeholder="tag, id or host"
                autoComplete="off"
                spellCheck={false}
              />
            </label>
          </div>
          <ImagesByHost images={items} canOperate={canOperate} filter={filter} />
        </>
      ) : null}
      <DigestsInUse />
    </>
  );
}
