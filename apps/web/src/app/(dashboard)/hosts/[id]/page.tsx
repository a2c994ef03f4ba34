"use client";
import { PageHeader } from "@/client/ui/page-header";

export default function Page() {
  return <PageHeader title="Host" subtitle="Coming in this change." />;
}
