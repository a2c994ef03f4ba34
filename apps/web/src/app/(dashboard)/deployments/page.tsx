"use client";
import { DeploymentsList } from "@/client/deployments/deployments-list";
import { PageHeader } from "@/client/ui/page-header";

export default function Page() {
  return (
    <>
      <PageHeader
        title="Deployments"
        subtitle="Replicas of one container, kept running and changed by rolling revisions out."
      />
      <DeploymentsList />
    </>
  );
}
