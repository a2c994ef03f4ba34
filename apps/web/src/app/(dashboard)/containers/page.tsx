"use client";
import { PageHeader } from "@/client/ui/page-header";

export default function Page() {
  return <PageHeader title="Containers" subtitle="Coming in this change." />;
}
