"use client";
// Which image digests the fleet's containers run, and where: the proof that
// every replica of a deployment runs the same bits, and the place to spot a
// host still running an old build.
import { useQuery } from "@tanstack/react-query";
import Link from "next/link";
import { formatDigest } from "../format";
import { useTRPC } from "../trpc";
import { CopyButton } from "../ui/copy-button";
import { EmptyState } from "../ui/empty-state";
import { ErrorNote } from "../ui/error-note";
import styles from "./images.module.css";

export function DigestsInUse() {
  const trpc = useTRPC();
  const digests = useQuery(trpc.image.digestsInUse.queryOptions({}, { refetchInterval: 15_000 }));
  const items = digests.data?.items ?? [];
  return (
    <section className="card section" aria-labelledby="digests-in-use">
      <h2 id="digests-in-use">Digests in use</h2>
      <p className={`muted ${styles.hint}`}>
        The exact image each container runs, most used first. A deployment pins one digest for every replica.
      </p>
      <ErrorNote error={digests.error} />
      {digests.isPending ? (
        <p className="muted">Loading digests…</p>
      ) : items.length === 0 ? (
        <EmptyState title="No digests reported yet">
          <p>
            A container shows here once its host reports it running an image from a registry; images built on
            a host have no registry digest.
          </p>
        </EmptyState>
      ) : (
        <div className={`table-wrap ${styles.digestTable}`}>
          <table>
            <thead>
              <tr>
                <th scope="col">Repository</th>
                <th scope="col">Digest</th>
                <th scope="col" className="num">
                  Containers
                </th>
                <th scope="col">Hosts</th>
              </tr>
            </thead>
            <tbody>
              {items.map((item) => (
                <tr key={`${item.repository}@${item.digest}`} data-digest={item.digest}>
                  <td className="mono">
                    <Link href={`/containers?image=${encodeURIComponent(item.repository)}`}>
                      {item.repository}
                    </Link>
                  </td>
                  <td className="nowrap">
                    <span className="mono" title={item.digest}>
                      {formatDigest(item.digest)}
                    </span>{" "}
                    <CopyButton text={item.digest} />
                  </td>
                  <td className="num">{item.containers}</td>
                  <td>
                    <span className={styles.tags}>
                      {item.hosts.map((host) => (
                        <span key={host.hostId} className="nowrap">
                          <Link href={`/hosts/${host.hostId}`}>{host.hostName}</Link>{" "}
                          <span className="muted">×{host.containers}</span>
                        </span>
                      ))}
                    </span>
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
