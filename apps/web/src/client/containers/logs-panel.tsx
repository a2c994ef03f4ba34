"use client";
// A container's output, followed live over container.logsFollow. Pausing
// closes the stream; resuming opens it again from the last line received (its
// resume id), so what was written meanwhile arrives then, without repeats.
// A stream that fails (the host's link dropped, the host briefly offline) is
// opened again the same way after a pause (log-stream-retry.ts).
// Lines arrive in bursts (the first tail, a chatty process): they are batched
// into one render, and only the newest LOG_BUFFER_LINES are kept.
import { useSubscription } from "@trpc/tanstack-react-query";
import { type MouseEvent, useCallback, useEffect, useLayoutEffect, useMemo, useRef, useState } from "react";
import { errorCode } from "../errors";
import { useTRPC } from "../trpc";
import { ErrorNote } from "../ui/error-note";
import {
  appendCapped,
  LOG_BUFFER_LINES,
  logFileName,
  logsAsText,
  matchesQuery,
  splitMatches,
  type TBufferedLogLine,
} from "./log-buffer";
import { logStreamRetryDelayMs } from "./log-stream-retry";
import styles from "./logs-panel.module.css";

/** Lines from before the page opened to start with. */
const INITIAL_TAIL = 500;
const FLUSH_MS = 80;
/** How far from the bottom still counts as "at the bottom" (sub-pixel rounding, a last short line). */
const BOTTOM_SLACK_PX = 24;

function LogLine({ entry, query }: { entry: TBufferedLogLine; query: string }) {
  return (
    <span className={entry.stream === "stderr" ? styles.stderr : undefined}>
      {splitMatches(entry.line, query).map((part, index) =>
        // biome-ignore lint/suspicious/noArrayIndexKey: parts of one line never reorder.
        part.match ? <mark key={index}>{part.text}</mark> : part.text,
      )}
      {"\n"}
    </span>
  );
}

export function LogsPanel({
  containerId,
  containerName,
  startedAt,
  removed,
}: {
  containerId: string;
  containerName: string;
  /** When the container last started: a new start opens the stream again if it had ended. */
  startedAt: Date | null;
  /** A removed container's stream is not retried. */
  removed: boolean;
}) {
  const trpc = useTRPC();
  const [lines, setLines] = useState<TBufferedLogLine[]>([]);
  const [paused, setPaused] = useState(false);
  const [follow, setFollow] = useState(true);
  const [query, setQuery] = useState("");
  const [resumeFrom, setResumeFrom] = useState<string | null>(null);
  const incoming = useRef<TBufferedLogLine[]>([]);
  const flushTimer = useRef<ReturnType<typeof setTimeout> | null>(null);
  const nextSeq = useRef(0);
  const lastId = useRef<string | null>(null);
  /** Retries since the last line arrived. */
  const retries = useRef(0);
  const view = useRef<HTMLPreElement>(null);
  const downloadUrl = useRef<string | null>(null);

  const flush = useCallback(() => {
    flushTimer.current = null;
    const batch = incoming.current;
    incoming.current = [];
    if (batch.length > 0) setLines((current) => appendCapped(current, batch));
  }, []);

  const input = useMemo(
    () => ({ id: containerId, tail: INITIAL_TAIL, lastEventId: resumeFrom }),
    [containerId, resumeFrom],
  );
  const subscription = useSubscription(
    trpc.container.logsFollow.subscriptionOptions(input, {
      enabled: !paused,
      onData: (message) => {
        retries.current = 0;
        lastId.current = message.id;
        incoming.current.push({ seq: nextSeq.current++, ...message.data });
        if (incoming.current.length > LOG_BUFFER_LINES) {
          incoming.current = incoming.current.slice(-LOG_BUFFER_LINES);
        }
        flushTimer.current ??= setTimeout(flush, FLUSH_MS);
      },
    }),
  );
  const { status, reset, error } = subscription;

  useEffect(
    () => () => {
      if (flushTimer.current) clearTimeout(flushTimer.current);
      if (downloadUrl.current) URL.revokeObjectURL(downloadUrl.current);
    },
    [],
  );

  /** Open the stream again after the last line received (or from the tail if none came). */
  const reopen = useCallback(() => {
    if (lastId.current !== resumeFrom) setResumeFrom(lastId.current);
    else reset();
  }, [resumeFrom, reset]);

  // The stream ends when the container exits; when it starts again, follow the new output.
  const startedAtMs = startedAt?.getTime() ?? null;
  const seenStart = useRef(startedAtMs);
  useEffect(() => {
    if (seenStart.current === startedAtMs) return;
    seenStart.current = startedAtMs;
    if (!paused && status === "idle") reopen();
  }, [startedAtMs, paused, status, reopen]);

  const retryInMs =
    paused || removed || status !== "error" ? null : logStreamRetryDelayMs(errorCode(error), retries.current);
  useEffect(() => {
    if (retryInMs === null) return;
    const timer = setTimeout(() => {
      retries.current++;
      reopen();
    }, retryInMs);
    return () => clearTimeout(timer);
  }, [retryInMs, reopen]);

  const shown = useMemo(
    () => (query ? lines.filter((entry) => matchesQuery(entry.line, query)) : lines),
    [lines, query],
  );

  // biome-ignore lint/correctness/useExhaustiveDependencies: scroll again whenever the shown lines change.
  useLayoutEffect(() => {
    const element = view.current;
    if (follow && element) element.scrollTop = element.scrollHeight;
  }, [shown, follow]);

  const onScroll = () => {
    const element = view.current;
    if (!element || !follow) return;
    const fromBottom = element.scrollHeight - element.scrollTop - element.clientHeight;
    // Reading older lines: stop pulling the view down under the reader.
    if (fromBottom > BOTTOM_SLACK_PX) setFollow(false);
  };

  const togglePause = () => {
    if (paused) {
      setResumeFrom(lastId.current);
      setPaused(false);
    } else {
      flush();
      setPaused(true);
    }
  };

  // The file is made at the click, from the lines held then; the link's own
  // navigation (after this handler) downloads it.
  const [downloadHref, setDownloadHref] = useState<string | undefined>(undefined);
  const makeDownload = useCallback((text: string) => {
    if (downloadUrl.current) URL.revokeObjectURL(downloadUrl.current);
    downloadUrl.current = URL.createObjectURL(new Blob([text], { type: "text/plain;charset=utf-8" }));
    setDownloadHref(downloadUrl.current);
    return downloadUrl.current;
  }, []);
  useEffect(() => {
    makeDownload("");
  }, [makeDownload]);
  // The file is made from the lines held at the click (or when the pointer or
  // focus reaches the link, for "Save link as"); the link's own navigation,
  // which runs after this handler, downloads it.
  const refreshDownload = () => makeDownload(logsAsText(lines));
  const onDownload = (event: MouseEvent<HTMLAnchorElement>) => {
    event.currentTarget.href = refreshDownload();
  };

  const state = paused
    ? "Paused"
    : status === "pending"
      ? "Live"
      : status === "connecting"
        ? "Connecting…"
        : status === "idle"
          ? "Stream ended"
          : retryInMs === null
            ? "Stream failed"
            : `Stream failed, retrying in ${Math.round(retryInMs / 1000)} s`;

  return (
    <section className="card" data-testid="logs" aria-labelledby="logs-heading">
      <div className={styles.toolbar}>
        <h2 id="logs-heading">Logs</h2>
        <span className={`${styles.state} ${paused || status !== "pending" ? "muted" : styles.live}`}>
          {state}
        </span>
        <span className="spacer" />
        <label className={styles.search}>
          Search logs
          <input type="search" value={query} onChange={(event) => setQuery(event.target.value)} />
        </label>
        <label className={styles.check}>
          <input
            type="checkbox"
            checked={follow}
            onChange={(event) => setFollow(event.target.checked)}
            aria-describedby="logs-follow-help"
          />
          Follow
        </label>
        <button type="button" onClick={togglePause} aria-pressed={paused}>
          {paused ? "Resume" : "Pause"}
        </button>
        {(status === "idle" || status === "error") && !paused ? (
          <button type="button" onClick={reopen}>
            Reconnect
          </button>
        ) : null}
        <a
          href={downloadHref}
          download={logFileName(containerName)}
          onClick={onDownload}
          onPointerEnter={refreshDownload}
          onFocus={refreshDownload}
          className={styles.download}
        >
          Download
        </a>
      </div>
      <p id="logs-follow-help" className={`muted ${styles.help}`}>
        {paused
          ? "Paused: the stream is closed and nothing is added. Resume fetches what was written meanwhile, then follows again."
          : follow
            ? "Following: the view stays on the newest line. Scroll up to stop."
            : "Not following: new lines are added below without moving the view."}{" "}
        {query
          ? `${shown.length} of ${lines.length} lines match.`
          : `${lines.length} lines${lines.length >= LOG_BUFFER_LINES ? ` (the newest ${LOG_BUFFER_LINES} are kept)` : ""}.`}
      </p>
      <ErrorNote error={error} />
      <pre
        ref={view}
        className={`logs-view ${styles.lines}`}
        data-testid="log-lines"
        onScroll={onScroll}
        // biome-ignore lint/a11y/noNoninteractiveTabindex: a scrolling region needs focus to scroll by keyboard.
        tabIndex={0}
        role="log"
        aria-live="off"
        aria-label={`Output of ${containerName}`}
      >
        {shown.map((entry) => (
          <LogLine key={entry.seq} entry={entry} query={query} />
        ))}
      </pre>
      {lines.length === 0 && (status === "pending" || status === "connecting") ? (
        <p className="muted">{status === "pending" ? "No output yet." : "Waiting for the host…"}</p>
      ) : null}
    </section>
  );
}
