"use client";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useRouter, useSearchParams } from "next/navigation";
import { type FormEvent, Suspense, useEffect, useState } from "react";
import { useTRPC } from "@/client/trpc";
import { ErrorNote } from "@/client/ui/error-note";

// Only paths of this site, so a crafted link cannot send a person elsewhere after sign-in.
function safeNext(next: string | null): string {
  return next?.startsWith("/") && !next.startsWith("//") ? next : "/";
}

function SignInForm() {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const router = useRouter();
  const params = useSearchParams();
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  // Until React has hydrated, a click would submit the form natively (a GET with the password in the URL).
  const [hydrated, setHydrated] = useState(false);
  useEffect(() => setHydrated(true), []);
  const signIn = useMutation(
    trpc.auth.signIn.mutationOptions({
      onSuccess: ({ user }) => {
        // Drop everything cached while anonymous (auth.me said "nobody"), or
        // the session gate would send the person straight back here.
        queryClient.clear();
        queryClient.setQueryData(trpc.auth.me.queryKey(), { user, via: "session" as const });
        router.replace(safeNext(params.get("next")));
      },
    }),
  );

  function submit(event: FormEvent) {
    event.preventDefault();
    signIn.mutate({ email, password });
  }

  return (
    <form className="auth-card" method="post" onSubmit={submit}>
      <div className="brand">
        <span className="brand-mark" aria-hidden /> Fleet
      </div>
      <h1>Sign in</h1>
      <label>
        Email
        <input
          type="email"
          autoComplete="username"
          required
          value={email}
          onChange={(event) => setEmail(event.target.value)}
        />
      </label>
      <label>
        Password
        <input
          type="password"
          autoComplete="current-password"
          required
          value={password}
          onChange={(event) => setPassword(event.target.value)}
        />
      </label>
      <ErrorNote error={signIn.error} />
      <button type="submit" className="primary" disabled={!hydrated || signIn.isPending}>
        {signIn.isPending ? "Signing in…" : "Sign in"}
      </button>
      <p className="muted" style={{ margin: 0, fontSize: 12 }}>
        The first administrator&apos;s password is printed once when the central starts for the first time.
      </p>
    </form>
  );
}

export default function SignInPage() {
  return (
    <main className="auth-page">
      <Suspense>
        <SignInForm />
      </Suspense>
    </main>
  );
}
