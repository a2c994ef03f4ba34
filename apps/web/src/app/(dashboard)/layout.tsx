import type { ReactNode } from "react";
import { DashboardShell } from "@/client/shell";

export default function DashboardLayout({ children }: { children: ReactNode }) {
  return <DashboardShell>{children}</DashboardShell>;
}
