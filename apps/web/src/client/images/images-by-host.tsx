"use client";
// The images each host holds, one table per host, as the agents last listed
// them, for the page of hosts the API handed out. Operators can remove an
// image (after a confirm) or start the run form with it.
import { useMutation, useQueryClient } from "@tanstack/react-query";
import Link from "next/link";
import { useMemo, useState } from "react";
import type { RouterOutputs } from "../api-types";
import { formatBytes, formatDateTime, formatRelative, shortDigest } from "../format";
import { useTRPC } from "../trpc";
import { ErrorNote } from "../ui/error-note";
import styles from "./images.module.css";

export type THostImageView = RouterOutputs["image"]["list"]["items"][number];

interface THostGroup {
  hostId: string;
  hostName: string;
  images: THostImageView[];
  sizeBytes: number;
}

function groupByHost(images: THostImageView[]): THostGroup[] {
  const groups = new Map<string, THostGroup>();
  for (const image of images) {
    let group = groups.get(image.hostId);
    if (!group) {
      group = { hostId: image.hostId, hostName: image.hostName, images: [], sizeBytes: 0 };
      groups.set(image.hostId, group);
    }
    group.images.push(image);
    group.sizeBytes += image.sizeBytes;
  }
  // The API sorts by host name already; Map keeps that order.
  return [...groups.values()];
}

/** What to hand the engine to remove this image: its one tag (untag + delete), else its id. */
function removalRef(image: THostImageView): string {
  return image.tags.length === 1 ? (image.tags[0] as string) : image.id;
}

function ImageRow({
  image,
  canOperate,
  onRemove,
  removing,
}: {
  image: THostImageView;
  canOperate: boolean;
  onRemove: (image: THostImageView) => void;
  removing: boolean;
}) {
  const firstTag = image.tags[0];
  return (
    <tr data-image-id={image.id} data-host-id={image.hostId}>
      <td>
        {image.tags.length > 0 ? (
          <span className={styles.tags}>
            {image.tags.map((tag) => (
              <span key={tag} className="mono">
                {tag}
              </span>
            ))}
          </span>
        ) : (
          <span className={`muted ${styles.dangling}`}>untagged</span>
        )}
      </td>
      <td className="mono" title={image.id}>
        {shortDigest(image.id)}
      </td>
      <td className="num nowrap">{formatBytes(image.sizeBytes)}</td>
      <td className="nowrap" title={formatDateTime(image.createdAt)}>
        {formatRelative(image.createdAt)}
      </td>
      {canOperate ? (
        <td className="actions">
          {firstTag ? (
            <Link className="button-small" href={`/run?image=${encodeURIComponent(firstTag)}`}>
              Run…
            </Link>
          ) : null}{" "}
          <button
            type="button"
            className="button-small danger"
            disabled={removing}
            onClick={() => onRemove(image)}
          >
            Remove
          </button>
        </td>
      ) : null}
    </tr>
  );
}

/** One page of hosts' images, as the API pages them (filtered on the server). */
export function ImagesByHost({ images, canOperate }: { images: THostImageView[]; canOperate: boolean }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const [removingKey, setRemovingKey] = useState<string | null>(null);
  const remove = useMutation(
    trpc.image.remove.mutationOptions({
      onSettled: () => {
        setRemovingKey(null);
        return queryClient.invalidateQueries({ queryKey: trpc.image.pathKey() });
      },
    }),
  );

  const groups = useMemo(() => groupByHost(images), [images]);

  const onRemove = (image: THostImageView) => {
    const ref = removalRef(image);
    const what = image.tags.length > 0 ? image.tags.join(", ") : shortDigest(image.id);
    if (!window.confirm(`Remove image ${what} from host ${image.hostName}?`)) return;
    setRemovingKey(`${image.hostId}/${image.id}`);
    // Several tags name one image: removing by id then needs force to drop them all.
    remove.mutate({ hostId: image.hostId, image: ref, force: image.tags.length > 1 });
  };

  return (
    <>
      <ErrorNote error={remove.error} />
      {groups.map((group) => (
        <section key={group.hostId} className={styles.hostGroup} aria-labelledby={`images-${group.hostId}`}>
          <div className={styles.hostHeading}>
            <h2 id={`images-${group.hostId}`}>
              <Link href={`/hosts/${group.hostId}`}>{group.hostName}</Link>
            </h2>
            <span className="muted">
              {group.images.length} image{group.images.length === 1 ? "" : "s"} ·{" "}
              {formatBytes(group.sizeBytes)}
            </span>
          </div>
          <div className="table-wrap">
            <table>
              <thead>
                <tr>
                  <th>Tags</th>
                  <th>ID</th>
                  <th className="num">Size</th>
                  <th>Created</th>
                  {canOperate ? (
                    <th className="num">
                      <span className={styles.srOnly}>Actions</span>
                    </th>
                  ) : null}
                </tr>
              </thead>
              <tbody>
                {group.images.map((image) => (
                  <ImageRow
                    key={image.id}
                    image={image}
                    canOperate={canOperate}
                    onRemove={onRemove}
                    removing={removingKey === `${image.hostId}/${image.id}`}
                  />
                ))}
              </tbody>
            </table>
          </div>
        </section>
      ))}
    </>
  );
}
