"use client";
import { PageHeader } from "@/client/ui/page-header";

export default function Page() {
  return <PageHeader title="Overview" subtitle="Coming in this change." />;
}
