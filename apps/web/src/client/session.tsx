"use client";
// Who is signed in, for every dashboard page: the shell asks once (auth.me),
// sends anonymous visitors to /sign-in, and hands the user down so pages can
// hide what the role may not do (the server refuses it anyway).
import { roleAtLeast, type TUserRole } from "@fleet/shared/domain/roles";
import { useQuery } from "@tanstack/react-query";
import type { inferRouterOutputs } from "@trpc/server";
import { usePathname, useRouter } from "next/navigation";
import { createContext, type ReactNode, useContext, useEffect } from "react";
import type { AppRouter } from "../server/routers/_app";
import { useTRPC } from "./trpc";

export type TSessionUser = NonNullable<inferRouterOutputs<AppRouter>["auth"]["me"]["user"]>;

const SessionContext = createContext<TSessionUser | null>(null);

/** The signed-in user; only inside <SessionGate>. */
export function useSessionUser(): TSessionUser {
  const user = useContext(SessionContext);
  if (!user) throw new Error("useSessionUser outside <SessionGate>");
  return user;
}

/** Whether the signed-in user has `role` or a higher one. */
export function useCan(role: TUserRole): boolean {
  return roleAtLeast(useSessionUser().role, role);
}

export function SessionGate({ children }: { children: ReactNode }) {
  const trpc = useTRPC();
  const me = useQuery(trpc.auth.me.queryOptions(undefined, { staleTime: 60_000 }));
  const router = useRouter();
  const pathname = usePathname();
  const anonymous = me.isSuccess && me.data.user === null;

  useEffect(() => {
    if (anonymous) router.replace(`/sign-in?next=${encodeURIComponent(pathname)}`);
  }, [anonymous, router, pathname]);

  if (me.isError) {
    return (
      <p role="alert" className="page-error">
        Cannot reach the Fleet server: {me.error.message}
      </p>
    );
  }
  if (!me.data?.user) return <p className="page-loading">Loading…</p>;
  return <SessionContext.Provider value={me.data.user}>{children}</SessionContext.Provider>;
}
