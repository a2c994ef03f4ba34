"use client";
import { HostObjectsSection } from "../host-objects/host-objects-section";
import { networkUiKind } from "./network-kind";

export function HostNetworks({ hostId }: { hostId: string }) {
  return <HostObjectsSection kind={networkUiKind} hostId={hostId} />;
}
