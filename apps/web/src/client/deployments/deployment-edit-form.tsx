"use client";
// Changing a deployment in two steps: "Review changes" asks deployment.update
// for a dry run, which answers with the revision's one-line diff exactly as it
// will be recorded (nothing pulled or written); the policy's changes are
// listed beside it. "Apply" sends the same changes for real, and only while
// the form still says what was reviewed.
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { type FormEvent, useMemo, useState } from "react";
import { errorMessage } from "../errors";
import sections from "../run/form-section.module.css";
import { HealthCheckFields } from "../run/health-check-fields";
import { formProblemOf } from "../run/run-request";
import { useTRPC, useTRPCClient } from "../trpc";
import {
  editRequestOf,
  editValuesOf,
  type TDeploymentEditValues,
  type TDeploymentView,
  type TUpdateChanges,
} from "./deployment-edit";
import styles from "./deployments.module.css";

interface TPreview {
  /** The changes reviewed, to tell whether the form still says the same. */
  key: string;
  changes: TUpdateChanges;
  specDiff: string;
  policyDiff: string[];
}

export function DeploymentEditForm({
  deployment,
  onClose,
  onApplied,
}: {
  deployment: TDeploymentView;
  onClose: () => void;
  onApplied: (change: { revision: number | null; diff: string; policyDiff: string[] }) => void;
}) {
  const trpc = useTRPC();
  const client = useTRPCClient();
  const queryClient = useQueryClient();
  // The form as it opened: what "changed" is measured against, even while the page refreshes.
  const [initial] = useState(() => editValuesOf(deployment));
  const [values, setValues] = useState<TDeploymentEditValues>(initial);
  const [formProblem, setFormProblem] = useState<string | null>(null);
  const [preview, setPreview] = useState<TPreview | null>(null);
  const request = useMemo(
    () => editRequestOf(initial, values, deployment.updatePolicy),
    [initial, values, deployment.updatePolicy],
  );
  const currentKey = request.ok ? JSON.stringify(request.changes) : null;
  const reviewed = preview !== null && preview.key === currentKey;

  const review = useMutation({
    mutationFn: (changes: TUpdateChanges) =>
      client.deployment.update.mutate({ id: deployment.id, ...changes, dryRun: true }),
  });
  const apply = useMutation({
    mutationFn: (changes: TUpdateChanges) =>
      client.deployment.update.mutate({ id: deployment.id, ...changes }),
    onSettled: () => queryClient.invalidateQueries({ queryKey: trpc.deployment.pathKey() }),
  });
  const busy = review.isPending || apply.isPending;
  const apiError = review.error ?? apply.error;

  const set =
    <K extends keyof TDeploymentEditValues>(key: K) =>
    (event: { target: { value: string } }) => {
      setValues((current) => ({ ...current, [key]: event.target.value as TDeploymentEditValues[K] }));
    };
  const toggleEnvRemoval = (key: string, remove: boolean) =>
    setValues((current) => ({
      ...current,
      envRemove: remove
        ? [...current.envRemove.filter((name) => name !== key), key]
        : current.envRemove.filter((name) => name !== key),
    }));

  const onReview = async (event: FormEvent) => {
    event.preventDefault();
    review.reset();
    apply.reset();
    setPreview(null);
    if (!request.ok) {
      setFormProblem(request.message);
      return;
    }
    if (request.empty) {
      setFormProblem("Nothing to change: the form says what the deployment already runs.");
      return;
    }
    setFormProblem(null);
    try {
      const result = await review.mutateAsync(request.changes);
      setPreview({
        key: JSON.stringify(request.changes),
        changes: request.changes,
        specDiff: result.change.diff,
        policyDiff: request.policyDiff,
      });
    } catch {
      // The mutation keeps the error; it shows in the form.
    }
  };

  const onApply = async () => {
    if (!preview || !reviewed) return;
    try {
      const result = await apply.mutateAsync(preview.changes);
      onApplied({
        revision: result.change.revision,
        diff: result.change.diff,
        policyDiff: preview.policyDiff,
      });
    } catch {
      // Shown in the form; the values stay.
    }
  };

  return (
    <form
      className="card section"
      aria-label="Edit deployment"
      onSubmit={onReview}
      noValidate
      data-testid="deployment-edit"
    >
      <div className={styles.cardHeading}>
        <h2>Edit {deployment.name}</h2>
        <span className="muted">
          A change of the spec is revision {deployment.revision + 1}, rolled out by the update policy; a
          change of the policy alone applies to the next rollout.
        </span>
      </div>
      <div className="form-grid">
        <label className="wide">
          Image
          <input
            name="image"
            value={values.image}
            onChange={set("image")}
            spellCheck={false}
            autoComplete="off"
          />
        </label>
        <label className="wide">
          Command
          <input
            name="command"
            value={values.command}
            onChange={set("command")}
            placeholder="the image's default"
            className="mono"
            spellCheck={false}
            autoComplete="off"
          />
        </label>
        <label>
          CPUs
          <input
            name="cpus"
            value={values.cpus}
            onChange={set("cpus")}
            placeholder="no limit"
            autoComplete="off"
          />
        </label>
        <label>
          Memory
          <input
            name="memory"
            value={values.memory}
            onChange={set("memory")}
            placeholder="no limit"
            autoComplete="off"
          />
        </label>
        <label>
          Pids
          <input
            name="pids"
            value={values.pids}
            onChange={set("pids")}
            placeholder="no limit"
            inputMode="numeric"
            autoComplete="off"
          />
        </label>
        <label>
          Ports
          <input
            name="ports"
            value={values.ports}
            onChange={set("ports")}
            placeholder="8080:80, 5353:53/udp"
            className="mono"
            spellCheck={false}
            autoComplete="off"
          />
        </label>
      </div>

      <fieldset className={sections.fieldset}>
        <legend className={sections.legend}>Environment</legend>
        {deployment.envKeys.length > 0 ? (
          <div className={styles.envKeys}>
            {deployment.envKeys.map((key) => (
              <label key={key} className={styles.checkbox}>
                <input
                  type="checkbox"
                  checked={values.envRemove.includes(key)}
                  onChange={(event) => toggleEnvRemoval(key, event.target.checked)}
                  aria-label={`Remove ${key}`}
                />
                <span className="mono">{key}</span>
              </label>
            ))}
          </div>
        ) : (
          <p className={`muted ${sections.hint}`}>No variables set.</p>
        )}
        <label className="wide">
          Set variables
          <textarea
            name="envSet"
            value={values.envSet}
            onChange={set("envSet")}
            placeholder="KEY=value, one per line"
            rows={3}
            spellCheck={false}
          />
        </label>
        <p className={`muted ${sections.hint}`}>
          Values stay on the server and are never shown: tick a variable to remove it, or set it again here.
        </p>
      </fieldset>

      <HealthCheckFields
        values={values}
        onChange={(change) => setValues((current) => ({ ...current, ...change }))}
      />

      <fieldset className={sections.fieldset}>
        <legend className={sections.legend}>Update policy</legend>
        <div className="form-grid">
          <label>
            Max parallel
            <input
              name="maxParallel"
              value={values.maxParallel}
              onChange={set("maxParallel")}
              inputMode="numeric"
              autoComplete="off"
            />
          </label>
          <label>
            Min healthy time
            <input
              name="minHealthyTime"
              value={values.minHealthyTime}
              onChange={set("minHealthyTime")}
              autoComplete="off"
            />
          </label>
          <label>
            Healthy deadline
            <input
              name="healthyDeadline"
              value={values.healthyDeadline}
              onChange={set("healthyDeadline")}
              autoComplete="off"
            />
          </label>
          <label>
            Progress deadline
            <input
              name="progressDeadline"
              value={values.progressDeadline}
              onChange={set("progressDeadline")}
              autoComplete="off"
            />
          </label>
          <label>
            Canary replicas
            <input
              name="canary"
              value={values.canary}
              onChange={set("canary")}
              inputMode="numeric"
              autoComplete="off"
            />
          </label>
          <label>
            Order
            <select
              name="order"
              value={values.order}
              onChange={(event) =>
                setValues((current) => ({
                  ...current,
                  order: event.target.value as TDeploymentEditValues["order"],
                }))
              }
            >
              <option value="stop-first">stop-first</option>
              <option value="start-first">start-first</option>
            </select>
          </label>
          <label className={styles.checkbox}>
            <input
              type="checkbox"
              name="autoRevert"
              checked={values.autoRevert}
              onChange={(event) => setValues((current) => ({ ...current, autoRevert: event.target.checked }))}
            />
            Auto-revert on failure
          </label>
        </div>
        <p className={`muted ${sections.hint}`}>
          At most <em>max parallel</em> replicas are replaced at a time; a new one counts once healthy (or
          running, without a health check) for the min healthy time, and fails the rollout if it has not by
          the healthy deadline. Canaries wait for Promote. Durations as <code>500ms</code>, <code>10s</code>,{" "}
          <code>5m</code>.
        </p>
      </fieldset>

      {preview ? (
        <div className={styles.preview} data-testid="edit-preview" aria-live="polite">
          <strong>{reviewed ? "What will change" : "The form changed since the review: review again"}</strong>
          <ul>
            {preview.specDiff ? (
              <li>
                Revision {deployment.revision + 1}: <span className="mono">{preview.specDiff}</span>
              </li>
            ) : (
              <li className="muted">The spec stays the same: no new revision, no rollout.</li>
            )}
            {preview.policyDiff.map((line) => (
              <li key={line}>
                Policy: <span className="mono">{line}</span>
              </li>
            ))}
          </ul>
        </div>
      ) : null}
      {formProblem ? (
        <p role="alert" className="error-note">
          {formProblem}
        </p>
      ) : null}
      {apiError ? (
        <p role="alert" className="error-note">
          {formProblemOf(errorMessage(apiError))}
        </p>
      ) : null}
      <div className={styles.actions}>
        <button type="submit" disabled={busy}>
          Review changes
        </button>
        <button type="button" className="primary" disabled={busy || !reviewed} onClick={onApply}>
          Apply
        </button>
        <button type="button" onClick={onClose} disabled={apply.isPending}>
          Cancel
        </button>
        {review.isPending ? <span className="muted">Checking…</span> : null}
        {apply.isPending ? <span className="muted">Applying…</span> : null}
      </div>
    </form>
  );
}
