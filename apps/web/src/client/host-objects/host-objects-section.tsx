"use client";
// One kind's objects on a host's page, with create and remove for operators.
import Link from "next/link";
import { useCan } from "../session";
import { CreateHostObject } from "./create-host-object";
import {
  RefreshHostObjectsButton,
  RefreshHostObjectsResult,
  useRefreshHostObjects,
} from "./host-object-actions";
import type { THostObjectUiKind } from "./host-object-kind";
import styles from "./host-objects.module.css";
import { HostObjectsList } from "./host-objects-list";

export function HostObjectsSection({ kind, hostId }: { kind: THostObjectUiKind; hostId: string }) {
  const canOperate = useCan("operator");
  const refresh = useRefreshHostObjects(kind);
  const headingId = `host-${kind.plural}`;
  return (
    <section className={`card section ${styles.hostSection}`} aria-labelledby={headingId}>
      <div className="row">
        <h2 id={headingId}>{kind.title}</h2>
        <span className="spacer" />
        {canOperate ? <RefreshHostObjectsButton kind={kind} refresh={refresh} hostId={hostId} /> : null}
        <Link href={`/${kind.plural}?host=${encodeURIComponent(hostId)}`}>{`Open in ${kind.title}`}</Link>
      </div>
      <RefreshHostObjectsResult refresh={refresh} />
      {canOperate ? <CreateHostObject kind={kind} fixedHostId={hostId} /> : null}
      <HostObjectsList kind={kind} filter={{ hostId, name: "" }} fixedHost />
    </section>
  );
}
