"use client";
import { HostObjectsSection } from "../host-objects/host-objects-section";
import { volumeUiKind } from "./volume-kind";

export function HostVolumes({ hostId }: { hostId: string }) {
  return <HostObjectsSection kind={volumeUiKind} hostId={hostId} />;
}
