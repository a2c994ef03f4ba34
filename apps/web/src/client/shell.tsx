"use client";
// The frame around every signed-in page: the main navigation (links a role
// cannot use are left out) and who is signed in.
import { roleAtLeast, type TUserRole } from "@fleet/shared/domain/roles";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import Link from "next/link";
import { usePathname, useRouter } from "next/navigation";
import type { ReactNode } from "react";
import { SessionGate, useSessionUser } from "./session";
import { useTRPC } from "./trpc";

const NAV: { href: string; label: string; minimum?: TUserRole }[] = [
  { href: "/", label: "Overview" },
  { href: "/hosts", label: "Hosts" },
  { href: "/containers", label: "Containers" },
  { href: "/deployments", label: "Deployments" },
  { href: "/run", label: "Run", minimum: "operator" },
  { href: "/images", label: "Images" },
  { href: "/volumes", label: "Volumes" },
  { href: "/networks", label: "Networks" },
  { href: "/events", label: "Events" },
  { href: "/settings", label: "Settings" },
];

function isCurrent(pathname: string, href: string): boolean {
  return href === "/" ? pathname === "/" : pathname === href || pathname.startsWith(`${href}/`);
}

function Sidebar() {
  const user = useSessionUser();
  const pathname = usePathname();
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const router = useRouter();
  const signOut = useMutation(
    trpc.auth.signOut.mutationOptions({
      onSettled: () => {
        queryClient.clear();
        router.replace("/sign-in");
      },
    }),
  );
  return (
    <aside className="sidebar">
      <div className="brand">
        <span className="brand-mark" aria-hidden /> Fleet
      </div>
      <nav aria-label="Main">
        <ul>
          {NAV.filter((item) => !item.minimum || roleAtLeast(user.role, item.minimum)).map((item) => (
            <li key={item.href}>
              <Link href={item.href} aria-current={isCurrent(pathname, item.href) ? "page" : undefined}>
                {item.label}
              </Link>
            </li>
          ))}
        </ul>
      </nav>
      <div className="sidebar-footer">
        <span title={user.email}>
          {user.name} <span className="muted">({user.role})</span>
        </span>
        <button type="button" className="button-small" onClick={() => signOut.mutate()}>
          Sign out
        </button>
      </div>
    </aside>
  );
}

export function DashboardShell({ children }: { children: ReactNode }) {
  return (
    <SessionGate>
      <div className="shell">
        <Sidebar />
        <main className="main">{children}</main>
      </div>
    </SessionGate>
  );
}
