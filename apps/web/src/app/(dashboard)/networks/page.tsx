"use client";
import { HostObjectsPage } from "@/client/host-objects/host-objects-page";
import { networkUiKind } from "@/client/networks/network-kind";

export default function Page() {
  return <HostObjectsPage kind={networkUiKind} />;
}
