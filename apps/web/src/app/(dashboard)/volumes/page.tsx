"use client";
import { HostObjectsPage } from "@/client/host-objects/host-objects-page";
import { volumeUiKind } from "@/client/volumes/volume-kind";

export default function Page() {
  return <HostObjectsPage kind={volumeUiKind} />;
}
