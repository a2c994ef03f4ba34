"use client";
import { useSearchParams } from "next/navigation";
import { Suspense } from "react";
import { RunForm } from "@/client/run/run-form";
import { useCan } from "@/client/session";
import { PageHeader } from "@/client/ui/page-header";

function RunFormFromQuery() {
  // `/run?image=…` (e.g. from the images page) starts the form with that image.
  const image = useSearchParams().get("image") ?? "";
  return <RunForm initialImage={image} />;
}

export default function RunPage() {
  const canRun = useCan("operator");
  return (
    <>
      <PageHeader
        title="Run a container"
        subtitle={
          canRun
            ? "Describe it in docker's terms; the scheduler shows where it would go before you run it."
            : undefined
        }
      />
      {canRun ? (
        <Suspense fallback={<p className="muted">Loading…</p>}>
          <RunFormFromQuery />
        </Suspense>
      ) : (
        <p className="notice">Running containers needs the operator role.</p>
      )}
    </>
  );
}
