"use client";
// A host's networks on its page, with create and remove for operators.
import Link from "next/link";
import styles from "../host-objects/host-objects.module.css";
import { useCan } from "../session";
import {
  CreateNetwork,
  RefreshNetworksButton,
  RefreshNetworksResult,
  useRefreshNetworks,
} from "./network-actions";
import { NetworksList } from "./networks-list";

export function HostNetworks({ hostId }: { hostId: string }) {
  const canOperate = useCan("operator");
  const refresh = useRefreshNetworks();
  return (
    <section className={`card section ${styles.hostSection}`} aria-labelledby="host-networks">
      <div className="row">
        <h2 id="host-networks">Networks</h2>
        <span className="spacer" />
        {canOperate ? <RefreshNetworksButton refresh={refresh} hostId={hostId} /> : null}
        <Link href={`/networks?host=${encodeURIComponent(hostId)}`}>Open in Networks</Link>
      </div>
      <RefreshNetworksResult refresh={refresh} />
      {canOperate ? <CreateNetwork fixedHostId={hostId} /> : null}
      <NetworksList filter={{ hostId, name: "" }} fixedHost />
    </section>
  );
}
