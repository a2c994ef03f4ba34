"use client";
import { HostsList } from "@/client/hosts/hosts-list";
import { PageHeader } from "@/client/ui/page-header";

export default function Page() {
  return (
    <>
      <PageHeader
        title="Hosts"
        subtitle="Machines running the Fleet agent: what they have, what is handed out, what is used."
      />
      <HostsList />
    </>
  );
}
