"use client";
// Build an image on one host from a context the person picks: a tar (plain
// or compressed) goes up as it is, a lone Dockerfile is wrapped into a tar
// first. The context is uploaded (POST /api/uploads), image.build starts the
// build on the central, and image.watchBuild streams the engine's output
// until `built` or `failed`. The build goes on if the page is left; Cancel
// stops it.
import { parseImageRef } from "@fleet/shared/image-ref";
import { useQueryClient } from "@tanstack/react-query";
import { type FormEvent, useEffect, useRef, useState } from "react";
import { shortDigest } from "../format";
import { HostPicker } from "../hosts/host-picker";
import { useTRPC, useTRPCClient } from "../trpc";
import { ErrorNote } from "../ui/error-note";
import { StatusBadge } from "../ui/status-badge";
import { buildContextOf } from "./build-context";
import styles from "./images.module.css";
import { uploadContext } from "./upload-context";

type TBuildPhase =
  | { kind: "idle" }
  | { kind: "uploading" }
  | { kind: "building" }
  | { kind: "built"; imageId: string }
  | { kind: "failed"; error: string };

/** Lines kept on screen; a long build drops its oldest ones. */
const MAX_OUTPUT_LINES = 5000;

export function BuildPanel() {
  const trpc = useTRPC();
  const client = useTRPCClient();
  const queryClient = useQueryClient();
  const [tag, setTag] = useState("");
  const [hostId, setHostId] = useState("");
  const [dockerfile, setDockerfile] = useState("");
  const [file, setFile] = useState<File | null>(null);
  const [phase, setPhase] = useState<TBuildPhase>({ kind: "idle" });
  const [lines, setLines] = useState<string[]>([]);
  const [error, setError] = useState<unknown>(null);
  const subscription = useRef<{ unsubscribe: () => void } | null>(null);
  const upload = useRef<AbortController | null>(null);
  const job = useRef<string | null>(null);
  // Bumped by every start and cancel: a start that comes back after a cancel stops its own job.
  const attempts = useRef(0);
  const left = useRef(false);
  const output = useRef<HTMLPreElement | null>(null);

  const chosenHost = hostId;

  // Leaving the page stops an upload and the watching; a build already started runs on.
  useEffect(() => {
    left.current = false;
    return () => {
      left.current = true;
      upload.current?.abort();
      subscription.current?.unsubscribe();
    };
  }, []);

  // Keep the newest output in view, as a terminal does. Reads `lines` so it runs on each new line.
  useEffect(() => {
    if (lines.length > 0 && output.current) output.current.scrollTop = output.current.scrollHeight;
  }, [lines]);

  const busy = phase.kind === "uploading" || phase.kind === "building";

  const onSubmit = async (event: FormEvent) => {
    event.preventDefault();
    const reference = tag.trim();
    const problem = !file
      ? "Context: choose a .tar or .tar.gz build context, or a Dockerfile"
      : reference === ""
        ? "Tag: name the image to build, e.g. team/app:1"
        : chosenHost === ""
          ? "Host: no host is online to build on"
          : null;
    if (problem || !file) {
      setError(new Error(problem ?? "Context: choose a file"));
      return;
    }
    try {
      // Checked before the upload, which a refused build would leave unused.
      parseImageRef(reference);
    } catch (cause) {
      setError(new Error(`Tag: ${(cause as Error).message}`));
      return;
    }
    const attempt = ++attempts.current;
    setError(null);
    setLines([]);
    setPhase({ kind: "uploading" });
    const dockerfilePath = dockerfile.trim() || "Dockerfile";
    let uploadId: string;
    try {
      const context = buildContextOf(new Uint8Array(await file.arrayBuffer()), dockerfilePath);
      setLines([
        context.kind === "dockerfile"
          ? `wrapped ${file.name} into a build context as ${dockerfilePath}`
          : `uploading ${file.name} (${context.kind})`,
      ]);
      upload.current = new AbortController();
      uploadId = await uploadContext(context.bytes, upload.current.signal);
    } catch (cause) {
      if (attempt !== attempts.current) return;
      setPhase({ kind: "idle" });
      setError(cause instanceof Error ? new Error(`Context: ${cause.message}`) : cause);
      return;
    } finally {
      upload.current = null;
    }
    const finish = () => {
      subscription.current = null;
      job.current = null;
      void queryClient.invalidateQueries({ queryKey: trpc.image.pathKey() });
    };
    setPhase({ kind: "building" });
    let jobId: string;
    try {
      ({ jobId } = await client.image.build.mutate({
        hostId: chosenHost,
        tag: reference,
        uploadId,
        ...(dockerfile.trim() !== "" ? { dockerfile: dockerfilePath } : {}),
      }));
    } catch (cause) {
      if (attempt !== attempts.current) return;
      setPhase({ kind: "idle" });
      setError(cause);
      return;
    }
    if (left.current) return;
    if (attempt !== attempts.current) {
      void client.image.cancelJob.mutate({ jobId }).catch(setError);
      return;
    }
    job.current = jobId;
    subscription.current = client.image.watchBuild.subscribe(
      { jobId },
      {
        onData: ({ data }) => {
          if (data.type === "output") {
            setLines((current) => {
              const next = [...current, data.line];
              return next.length > MAX_OUTPUT_LINES ? next.slice(-MAX_OUTPUT_LINES) : next;
            });
          } else if (data.type === "built") {
            setPhase({ kind: "built", imageId: data.imageId });
          } else {
            setPhase({ kind: "failed", error: data.error });
          }
        },
        onError: (cause) => {
          setPhase({ kind: "idle" });
          setError(cause);
          finish();
        },
        onComplete: finish,
      },
    );
  };

  const cancel = async () => {
    attempts.current++;
    upload.current?.abort();
    const jobId = job.current;
    if (jobId) {
      try {
        // An ended build has nothing to cancel: its result is on its way.
        if (!(await client.image.cancelJob.mutate({ jobId })).cancelled) return;
      } catch (cause) {
        setError(cause);
        return;
      }
    }
    subscription.current?.unsubscribe();
    subscription.current = null;
    job.current = null;
    setPhase({ kind: "failed", error: "cancelled" });
  };

  return (
    <section className="card" aria-labelledby="build-title">
      <h2 id="build-title">Build</h2>
      <form className={styles.form} onSubmit={onSubmit} aria-label="Build" noValidate>
        <div className={styles.formRow}>
          <label>
            Tag
            <input
              name="tag"
              value={tag}
              onChange={(event) => setTag(event.target.value)}
              placeholder="team/app:1"
              autoComplete="off"
              spellCheck={false}
            />
          </label>
          <HostPicker
            label="Host"
            name="host"
            hostId={chosenHost || null}
            onChange={(id) => setHostId(id ?? "")}
            onlineOnly
          />
        </div>
        <div className={styles.formRow}>
          <label>
            Context
            <input
              name="context"
              type="file"
              onChange={(event) => setFile(event.target.files?.[0] ?? null)}
            />
          </label>
          <label>
            Dockerfile path
            <input
              name="dockerfile"
              value={dockerfile}
              onChange={(event) => setDockerfile(event.target.value)}
              placeholder="Dockerfile"
              autoComplete="off"
              spellCheck={false}
            />
          </label>
        </div>
        <p className={`muted ${styles.hint}`}>
          A .tar or .tar.gz of the build directory, or a single Dockerfile (for builds that copy nothing in).
        </p>
        <div className={styles.buttons}>
          <button type="submit" className="primary" disabled={busy}>
            Build
          </button>
          {busy ? (
            <button type="button" onClick={() => void cancel()}>
              Cancel
            </button>
          ) : null}
          <span aria-live="polite" data-testid="build-status">
            {phase.kind === "uploading" ? <span className="muted">Uploading the context…</span> : null}
            {phase.kind === "building" ? <span className="muted">Building…</span> : null}
            {phase.kind === "built" ? (
              <>
                <StatusBadge status="built" /> <span className="mono">{shortDigest(phase.imageId)}</span>
              </>
            ) : null}
            {phase.kind === "failed" ? <StatusBadge status="failed" /> : null}
          </span>
        </div>
        <ErrorNote error={error} />
        {phase.kind === "failed" && phase.error !== "cancelled" ? (
          <p role="alert" className="error-note">
            {phase.error}
          </p>
        ) : null}
      </form>
      {lines.length > 0 ? (
        <pre className={`logs-view ${styles.buildOutput}`} ref={output} data-testid="build-output">
          {lines.join("\n")}
        </pre>
      ) : null}
    </section>
  );
}
