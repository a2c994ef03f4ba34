"use client";
// The filter bar of the events page: kind prefix, severity, host, and — when
// the page was opened from a container — that container, removable.
import { useEffect, useId, useRef, useState } from "react";
import {
  EVENT_SEVERITY_CHOICES,
  hasAnyFilter,
  type TEventFilterValue,
  type TEventSeverity,
} from "./event-filter";
import styles from "./events.module.css";

const KIND_SUGGESTIONS = [
  "container.",
  "container.oom",
  "container.exit",
  "container.placed",
  "container.rescheduled",
  "host.",
  "host.offline",
  "host.joined",
  "image.",
  "deployment.",
  "agent.",
];

// "" = any; a comma list = several severities.
const SEVERITY_OPTIONS: { value: string; label: string }[] = [
  { value: "", label: "Any severity" },
  ...EVENT_SEVERITY_CHOICES.map((severity) => ({ value: severity, label: severity })),
  { value: "warning,error", label: "warning + error" },
];

const KIND_DEBOUNCE_MS = 300;

export function EventFilters({
  value,
  onChange,
  hosts,
  containerName,
}: {
  value: TEventFilterValue;
  onChange: (next: TEventFilterValue) => void;
  hosts: readonly { id: string; name: string; removedAt: Date | null }[];
  containerName?: string;
}) {
  const datalistId = useId();
  const [kindText, setKindText] = useState(value.kindPrefix ?? "");
  // The URL is the truth: follow it when it changes from elsewhere (Clear, back button).
  useEffect(() => setKindText(value.kindPrefix ?? ""), [value.kindPrefix]);
  // Typing waits for a pause before it filters; the timer then applies the filter as it is by
  // then (read through a ref), not as it was at the keystroke, so it cannot undo a later change.
  const latest = useRef({ value, onChange });
  useEffect(() => {
    latest.current = { value, onChange };
  });
  const kindTimer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  useEffect(() => () => clearTimeout(kindTimer.current), []);
  const typeKind = (text: string) => {
    setKindText(text);
    clearTimeout(kindTimer.current);
    kindTimer.current = setTimeout(() => {
      const next = text.trim() || undefined;
      const current = latest.current;
      if (next !== current.value.kindPrefix) current.onChange({ ...current.value, kindPrefix: next });
    }, KIND_DEBOUNCE_MS);
  };

  const severityValue = value.severity?.join(",") ?? "";
  const severityKnown = SEVERITY_OPTIONS.some((option) => option.value === severityValue);
  const selectedHostListed = !value.hostId || hosts.some((host) => host.id === value.hostId);

  return (
    <div className="filters">
      <label>
        Kind
        <input
          type="text"
          value={kindText}
          onChange={(event) => typeKind(event.target.value)}
          placeholder="container."
          list={datalistId}
          spellCheck={false}
          autoComplete="off"
        />
        <datalist id={datalistId}>
          {KIND_SUGGESTIONS.map((kind) => (
            <option key={kind} value={kind} />
          ))}
        </datalist>
      </label>
      <label>
        Severity
        <select
          value={severityValue}
          onChange={(event) => {
            const severity = event.target.value
              ? (event.target.value.split(",") as TEventSeverity[])
              : undefined;
            onChange({ ...value, severity });
          }}
        >
          {SEVERITY_OPTIONS.map((option) => (
            <option key={option.value} value={option.value}>
              {option.label}
            </option>
          ))}
          {severityKnown ? null : (
            <option value={severityValue}>{severityValue.replaceAll(",", " + ")}</option>
          )}
        </select>
      </label>
      <label>
        Host
        <select
          value={value.hostId ?? ""}
          onChange={(event) => onChange({ ...value, hostId: event.target.value || undefined })}
        >
          <option value="">All hosts</option>
          {hosts
            .filter((host) => host.removedAt === null || host.id === value.hostId)
            .map((host) => (
              <option key={host.id} value={host.id}>
                {host.name}
                {host.removedAt ? " (removed)" : ""}
              </option>
            ))}
          {selectedHostListed ? null : <option value={value.hostId}>{value.hostId}</option>}
        </select>
      </label>
      {value.containerId ? (
        <span className={styles.chip}>
          Container: <strong>{containerName ?? value.containerId}</strong>
          <button
            type="button"
            className="button-small"
            aria-label="Clear container filter"
            onClick={() => onChange({ ...value, containerId: undefined })}
          >
            ×
          </button>
        </span>
      ) : null}
      {hasAnyFilter(value) ? (
        <button
          type="button"
          onClick={() => {
            clearTimeout(kindTimer.current);
            setKindText("");
            onChange({});
          }}
        >
          Clear filters
        </button>
      ) : null}
    </div>
  );
}
