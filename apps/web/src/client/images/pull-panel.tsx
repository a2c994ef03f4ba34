"use client";
// Pull an image onto one host or every online host, with a row of progress
// per host as the engines report it: image.pull starts the pull on the
// central and names the hosts, image.watchPull streams the progress until
// every host is done. The pull goes on if the page is left; Cancel stops it.
import { useQueryClient } from "@tanstack/react-query";
import { type FormEvent, useEffect, useRef, useState } from "react";
import { HostPicker } from "../hosts/host-picker";
import { useTRPC, useTRPCClient } from "../trpc";
import { ErrorNote } from "../ui/error-note";
import { StatusBadge } from "../ui/status-badge";
import styles from "./images.module.css";
import {
  applyPullMessage,
  cancelPulls,
  pullRatio,
  startPulls,
  type THostPull,
  type TPullState,
} from "./pull-progress";

const ALL_HOSTS = "";

function PullRow({ pull }: { pull: THostPull }) {
  const ratio = pullRatio(pull);
  const words = pull.layer && pull.outcome === "pulling" ? `${pull.status} ${pull.layer}` : pull.status;
  return (
    <li className={styles.hostPull} data-host-id={pull.hostId} data-testid="pull-host">
      <span className={styles.hostPullName} title={pull.hostName}>
        {pull.hostName}
      </span>
      <span className={`${styles.status} muted`}>{pull.outcome === "pulling" ? words : null}</span>
      <StatusBadge status={pull.outcome} />
      {pull.outcome === "pulling" ? (
        <div
          className={`progress ${styles.progress}`}
          role="progressbar"
          aria-label={`Pull on ${pull.hostName}`}
          aria-valuemin={0}
          aria-valuemax={100}
          aria-valuenow={ratio === null ? undefined : Math.round(ratio * 100)}
          aria-valuetext={ratio === null ? pull.status : `${Math.round(ratio * 100)}%`}
        >
          <div style={{ width: `${Math.round((ratio ?? 0) * 100)}%` }} />
        </div>
      ) : null}
      {pull.error ? <span className={styles.pullError}>{pull.error}</span> : null}
    </li>
  );
}

export function PullPanel() {
  const trpc = useTRPC();
  const client = useTRPCClient();
  const queryClient = useQueryClient();
  const [image, setImage] = useState("");
  const [target, setTarget] = useState(ALL_HOSTS);
  const [pulls, setPulls] = useState<TPullState>({});
  const [running, setRunning] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const subscription = useRef<{ unsubscribe: () => void } | null>(null);
  const job = useRef<string | null>(null);
  // Bumped by every start and cancel: a start that comes back after a cancel stops its own job.
  const attempts = useRef(0);
  const left = useRef(false);

  // Leaving the page stops watching; the pull itself runs on to its end on the central.
  useEffect(() => {
    left.current = false;
    return () => {
      left.current = true;
      subscription.current?.unsubscribe();
    };
  }, []);

  const finish = () => {
    setRunning(false);
    subscription.current = null;
    job.current = null;
    void queryClient.invalidateQueries({ queryKey: trpc.image.pathKey() });
  };

  const onSubmit = async (event: FormEvent) => {
    event.preventDefault();
    const reference = image.trim();
    if (reference === "") {
      setError(new Error("Image: enter an image to pull, e.g. busybox:1.36"));
      return;
    }
    subscription.current?.unsubscribe();
    const attempt = ++attempts.current;
    setError(null);
    setPulls({});
    setRunning(true);
    let started: { jobId: string; hosts: { hostId: string; hostName: string }[] };
    try {
      started = await client.image.pull.mutate(
        target === ALL_HOSTS ? { image: reference, all: true } : { image: reference, hostIds: [target] },
      );
    } catch (cause) {
      if (attempt !== attempts.current) return;
      setError(cause);
      setRunning(false);
      return;
    }
    if (left.current) return;
    if (attempt !== attempts.current) {
      void client.image.cancelJob.mutate({ jobId: started.jobId }).catch(setError);
      return;
    }
    job.current = started.jobId;
    setPulls(startPulls(started.hosts));
    subscription.current = client.image.watchPull.subscribe(
      { jobId: started.jobId },
      {
        onData: (message) => setPulls((state) => applyPullMessage(state, message.data)),
        onError: (cause) => {
          setError(cause);
          finish();
        },
        onComplete: finish,
      },
    );
  };

  const onCancel = async () => {
    attempts.current++;
    const jobId = job.current;
    if (!jobId) {
      setRunning(false);
      return;
    }
    try {
      // An ended job has nothing to cancel: its last messages are on their way.
      if (!(await client.image.cancelJob.mutate({ jobId })).cancelled) return;
    } catch (cause) {
      setError(cause);
      return;
    }
    subscription.current?.unsubscribe();
    setPulls(cancelPulls);
    finish();
  };

  const rows = Object.values(pulls);
  const failed = rows.filter((row) => row.outcome === "failed").length;
  const pulled = rows.filter((row) => row.outcome === "pulled").length;

  return (
    <section className="card" aria-labelledby="pull-title">
      <h2 id="pull-title">Pull</h2>
      <form className={styles.form} onSubmit={onSubmit} aria-label="Pull" noValidate>
        <div className={styles.formRow}>
          <label>
            Image
            <input
              name="image"
              value={image}
              onChange={(event) => setImage(event.target.value)}
              placeholder="registry.example.com/team/app:1.2"
              autoComplete="off"
              spellCheck={false}
            />
          </label>
          <HostPicker
            label="Hosts"
            name="hosts"
            hostId={target || null}
            onChange={(id) => setTarget(id ?? ALL_HOSTS)}
            anyLabel="All hosts"
          />
        </div>
        <div className={styles.buttons}>
          <button type="submit" className="primary" disabled={running}>
            Pull
          </button>
          {running ? (
            <button type="button" onClick={() => void onCancel()}>
              Cancel
            </button>
          ) : null}
          <span className="muted" aria-live="polite">
            {running
              ? `Pulling ${rows.length > 0 ? `on ${rows.length} host${rows.length === 1 ? "" : "s"}` : ""}…`
              : rows.length > 0
                ? `${pulled} pulled, ${failed} failed`
                : null}
          </span>
        </div>
        <ErrorNote error={error} />
      </form>
      {rows.length > 0 ? (
        <ul className={styles.hostPulls} aria-label="Pull progress per host" data-testid="pull-progress">
          {rows.map((pull) => (
            <PullRow key={pull.hostId} pull={pull} />
          ))}
        </ul>
      ) : null}
    </section>
  );
}
