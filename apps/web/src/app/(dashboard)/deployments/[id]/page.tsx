"use client";
import { useParams } from "next/navigation";
import { DeploymentDetail } from "@/client/deployments/deployment-detail";

export default function Page() {
  const { id } = useParams<{ id: string }>();
  // Another deployment is another page: its form, stream and notices start afresh.
  return <DeploymentDetail key={id} deploymentId={id} />;
}
