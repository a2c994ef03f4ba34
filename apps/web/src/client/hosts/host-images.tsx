"use client";
// The images one host's engine holds, as it last listed them.
import { useQuery } from "@tanstack/react-query";
import Link from "next/link";
import { formatBytes, formatDateTime, formatRelative, shortDigest } from "../format";
import { useRefreshImages } from "../images/use-refresh-images";
import { useCan } from "../session";
import { useTRPC } from "../trpc";
import { EmptyState } from "../ui/empty-state";
import { ErrorNote } from "../ui/error-note";
import { useNow } from "../ui/use-now";

export function HostImages({ hostId }: { hostId: string }) {
  const trpc = useTRPC();
  const canOperate = useCan("operator");
  const now = useNow(30_000);
  const images = useQuery(trpc.image.list.queryOptions({ hostId }, { refetchInterval: 30_000 }));
  const refresh = useRefreshImages();
  const failure = refresh.data?.hosts.find((host) => !host.ok);
  const items = images.data?.items ?? [];
  return (
    <section className="card section" aria-labelledby="host-images">
      <div className="row">
        <h2 id="host-images">Images</h2>
        <span className="spacer" />
        {canOperate ? (
          <button
            type="button"
            className="button-small"
            onClick={() => refresh.mutate({ hostId })}
            disabled={refresh.isPending}
          >
            {refresh.isPending ? "Asking the host…" : "Refresh"}
          </button>
        ) : null}
        <Link href="/images">Pull or build</Link>
      </div>
      <ErrorNote error={images.error ?? refresh.error} />
      {failure ? (
        <p role="alert" className="error-note">
          {failure.error ?? "The host did not answer"}
        </p>
      ) : null}
      {images.isPending ? (
        <p className="muted">Loading images…</p>
      ) : items.length === 0 ? (
        <EmptyState title="No images on this host" />
      ) : (
        <div className="table-wrap">
          <table>
            <thead>
              <tr>
                <th>Tags</th>
                <th>ID</th>
                <th className="num">Size</th>
                <th>Created</th>
              </tr>
            </thead>
            <tbody>
              {items.map((image) => (
                <tr key={image.id} data-image-id={image.id}>
                  <td className="mono">
                    {image.tags.length > 0 ? image.tags.join(", ") : <span className="muted">untagged</span>}
                  </td>
                  <td className="mono" title={image.id}>
                    {shortDigest(image.id)}
                  </td>
                  <td className="num">{formatBytes(image.sizeBytes)}</td>
                  <td className="nowrap" title={formatDateTime(image.createdAt)}>
                    {formatRelative(image.createdAt, Math.max(now, image.createdAt.getTime()))}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
