"use client";
// Where the scheduler would put the container being described, and why not
// elsewhere: container.plan with the form's values, asked again a moment
// after the person stops typing. Mistakes the API finds in the values show
// here as plain text (the form's own alert is for a failed run).
import { keepPreviousData, skipToken, useQuery } from "@tanstack/react-query";
import { type ReactNode, useEffect, useState } from "react";
import { errorMessage } from "../errors";
import { useTRPC } from "../trpc";
import styles from "./run.module.css";
import { formProblemOf, type TRunRequest } from "./run-request";

const PLAN_DEBOUNCE_MS = 400;

function useDebounced<T>(value: T, ms: number): T {
  const [debounced, setDebounced] = useState(value);
  useEffect(() => {
    const timer = setTimeout(() => setDebounced(value), ms);
    return () => clearTimeout(timer);
  }, [value, ms]);
  return debounced;
}

type TRejection = { hostId: string; hostName: string; reasons: string[] };

/** Hosts listed one by one; past it the rest are counted (a fleet can have a thousand). */
const MAX_REJECTIONS_SHOWN = 20;

function Rejections({ rejected }: { rejected: TRejection[] }) {
  if (rejected.length === 0) return null;
  const more = rejected.length - MAX_REJECTIONS_SHOWN;
  return (
    <div className={styles.rejections}>
      <h3>Not on</h3>
      <ul>
        {rejected.slice(0, MAX_REJECTIONS_SHOWN).map((host) => (
          <li key={host.hostId}>
            <span className={styles.hostName}>{host.hostName}</span>
            <span className="muted">{host.reasons.join("; ")}</span>
          </li>
        ))}
      </ul>
      {more > 0 ? (
        <p className="muted">
          and {more} more host{more === 1 ? "" : "s"}
        </p>
      ) : null}
    </div>
  );
}

export function PlacementPreview({ request }: { request: TRunRequest }) {
  const trpc = useTRPC();
  // Keyed on the serialised input so an equal form does not ask again.
  const key = request.ok ? JSON.stringify(request.run) : null;
  const debouncedKey = useDebounced(key, PLAN_DEBOUNCE_MS);
  const input =
    debouncedKey === null
      ? skipToken
      : (JSON.parse(debouncedKey) as Parameters<typeof trpc.container.plan.queryOptions>[0]);
  const plan = useQuery(
    trpc.container.plan.queryOptions(input, {
      placeholderData: keepPreviousData,
      retry: false,
      refetchOnWindowFocus: false,
    }),
  );
  const settling = key !== debouncedKey || plan.isFetching;

  let body: ReactNode;
  if (!request.ok) {
    body =
      request.field === "image" ? (
        <p className="muted">Enter an image to see where it would run.</p>
      ) : (
        <p className={styles.problem}>{request.message}</p>
      );
  } else if (plan.isError) {
    body = <p className={styles.problem}>{formProblemOf(errorMessage(plan.error))}</p>;
  } else if (!plan.data) {
    body = <p className="muted">Checking the fleet…</p>;
  } else if (plan.data.fits) {
    body = (
      <>
        <p className={styles.verdict}>
          Will run on <strong>{plan.data.hostName}</strong>
        </p>
        <p className={styles.reason}>{plan.data.reason}</p>
        <Rejections rejected={plan.data.rejected} />
      </>
    );
  } else {
    body = (
      <>
        <p className={`${styles.verdict} ${styles.noFit}`}>Does not fit: {plan.data.message}</p>
        <Rejections rejected={plan.data.rejected} />
      </>
    );
  }

  return (
    <section
      className={`card ${styles.preview}`}
      data-testid="placement-preview"
      aria-live="polite"
      aria-busy={settling}
      aria-labelledby="placement-preview-title"
    >
      <div className="row">
        <h2 id="placement-preview-title">Placement</h2>
        <span className="spacer" />
        {request.ok && settling ? <span className="muted">checking…</span> : null}
      </div>
      {request.ok && request.replicas > 1 ? (
        <p className="muted">
          For the first replica; all {request.replicas} are placed together when you run, or none is.
        </p>
      ) : null}
      {body}
    </section>
  );
}
