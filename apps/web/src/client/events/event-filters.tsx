"use client";
// The filter bar of the events page: kind prefix, severity, host, and — when
// the page was opened from a container — that container, removable. For
// administrators, a choice between all events and the audit log (who changed
// access); the server shows audit events to no one else.
import { AUDIT_KIND_PREFIX, ZAuditEventKind } from "@fleet/shared/domain/audit";
import { EVENT_SEVERITIES, type TEventSeverity } from "@fleet/shared/domain/event";
import { useEffect, useId, useRef, useState } from "react";
import { HostPicker } from "../hosts/host-picker";
import { hasAnyFilter, type TEventFilterValue } from "./event-filter";
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

const AUDIT_KIND_SUGGESTIONS = [
  AUDIT_KIND_PREFIX,
  "audit.user.",
  "audit.sign-in.",
  ...ZAuditEventKind.options,
];

// "" = any; a comma list = several severities.
const SEVERITY_OPTIONS: { value: string; label: string }[] = [
  { value: "", label: "Any severity" },
  ...EVENT_SEVERITIES.map((severity) => ({ value: severity, label: severity })),
  { value: "warning,error", label: "warning + error" },
];

const KIND_DEBOUNCE_MS = 300;

export function EventFilters({
  value,
  onChange,
  containerName,
  deploymentName,
  canSeeAudit = false,
}: {
  value: TEventFilterValue;
  onChange: (next: TEventFilterValue) => void;
  containerName?: string;
  deploymentName?: string;
  /** Administrators: offer the audit log. */
  canSeeAudit?: boolean;
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
  const showingAudit = value.kindPrefix?.startsWith(AUDIT_KIND_PREFIX) ?? false;
  const kindSuggestions = canSeeAudit ? [...KIND_SUGGESTIONS, ...AUDIT_KIND_SUGGESTIONS] : KIND_SUGGESTIONS;

  return (
    <div className="filters">
      {canSeeAudit ? (
        <label>
          Show
          <select
            value={showingAudit ? "audit" : ""}
            data-testid="event-category"
            onChange={(event) => {
              clearTimeout(kindTimer.current);
              const kindPrefix = event.target.value === "audit" ? AUDIT_KIND_PREFIX : undefined;
              setKindText(kindPrefix ?? "");
              onChange({ ...value, kindPrefix });
            }}
          >
            <option value="">All events</option>
            <option value="audit">Access (audit)</option>
          </select>
        </label>
      ) : null}
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
          {kindSuggestions.map((kind) => (
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
      <HostPicker
        label="Host"
        hostId={value.hostId ?? null}
        onChange={(hostId) => onChange({ ...value, hostId: hostId ?? undefined })}
        anyLabel="All hosts"
      />
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
      {value.deploymentId ? (
        <span className={styles.chip}>
          Deployment: <strong>{deploymentName ?? value.deploymentId}</strong>
          <button
            type="button"
            className="button-small"
            aria-label="Clear deployment filter"
            onClick={() => onChange({ ...value, deploymentId: undefined })}
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
