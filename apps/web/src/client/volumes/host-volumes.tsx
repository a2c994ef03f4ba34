"use client";
// A host's volumes on its page, with create and remove for operators.
import Link from "next/link";
import styles from "../host-objects/host-objects.module.css";
import { useCan } from "../session";
import {
  CreateVolume,
  RefreshVolumesButton,
  RefreshVolumesResult,
  useRefreshVolumes,
} from "./volume-actions";
import { VolumesList } from "./volumes-list";

export function HostVolumes({ hostId }: { hostId: string }) {
  const canOperate = useCan("operator");
  const refresh = useRefreshVolumes();
  return (
    <section className={`card section ${styles.hostSection}`} aria-labelledby="host-volumes">
      <div className="row">
        <h2 id="host-volumes">Volumes</h2>
        <span className="spacer" />
        {canOperate ? <RefreshVolumesButton refresh={refresh} hostId={hostId} /> : null}
        <Link href={`/volumes?host=${encodeURIComponent(hostId)}`}>Open in Volumes</Link>
      </div>
      <RefreshVolumesResult refresh={refresh} />
      {canOperate ? <CreateVolume fixedHostId={hostId} /> : null}
      <VolumesList filter={{ hostId, name: "" }} fixedHost />
    </section>
  );
}
