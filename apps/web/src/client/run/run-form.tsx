"use client";
// The run form: one container (container.run) or, with more than one replica,
// a deployment placed all or nothing (deployment.create). The placement
// preview beside it shows where the scheduler would put it before the
// person submits.
import { keepPreviousData, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useRouter } from "next/navigation";
import { type FormEvent, useEffect, useId, useMemo, useState } from "react";
import { errorMessage } from "../errors";
import { useTRPC } from "../trpc";
import sections from "./form-section.module.css";
import { HealthCheckFields } from "./health-check-fields";
import { PlacementPreview } from "./placement-preview";
import styles from "./run.module.css";
import {
  deploymentInputOf,
  EMPTY_RUN_FORM,
  formProblemOf,
  listFieldsIn,
  runRequestOf,
  type TRestartChoice,
  type TRunFormValues,
  type TStrategy,
} from "./run-request";

const HEALTH_HINT = (
  <>
    As docker&apos;s <code>--health-*</code> flags: the host&apos;s agent runs the check every interval; after
    as many failures in a row as Retries the container is unhealthy. Failures in the start period do not
    count. Durations as <code>500ms</code>, <code>5s</code>, <code>1m30s</code>; empty fields take the
    defaults shown.
  </>
);

export function RunForm({ initialImage }: { initialImage: string }) {
  const trpc = useTRPC();
  const router = useRouter();
  const queryClient = useQueryClient();
  const imagesListId = useId();
  const [values, setValues] = useState<TRunFormValues>({ ...EMPTY_RUN_FORM, image: initialImage });
  const [formProblem, setFormProblem] = useState<string | null>(null);
  const request = useMemo(() => runRequestOf(values), [values]);

  // Tags the fleet already holds, offered as the person types an image: the
  // server's first matches for what is typed, never every host's images.
  const [tagSearch, setTagSearch] = useState(values.image.trim());
  useEffect(() => {
    const timer = setTimeout(() => setTagSearch(values.image.trim()), 300);
    return () => clearTimeout(timer);
  }, [values.image]);
  const tags = useQuery(
    trpc.image.tags.queryOptions(
      { search: tagSearch.slice(0, 256) || undefined, limit: 50 },
      { staleTime: 60_000, placeholderData: keepPreviousData },
    ),
  );
  const knownTags = tags.data?.items ?? [];

  const invalidate = () => queryClient.invalidateQueries({ queryKey: trpc.container.pathKey() });
  const runOne = useMutation(trpc.container.run.mutationOptions({ onSuccess: invalidate }));
  const runMany = useMutation(trpc.deployment.create.mutationOptions({ onSuccess: invalidate }));
  const submitting = runOne.isPending || runMany.isPending;
  const apiError = runOne.error ?? runMany.error;
  const apiProblem = apiError ? formProblemOf(errorMessage(apiError)) : null;
  const blamed = useMemo(() => listFieldsIn(apiError ? errorMessage(apiError) : ""), [apiError]);
  const helpId = useId();

  const set =
    <K extends keyof TRunFormValues>(key: K) =>
    (event: { target: { value: string } }) => {
      setValues((current) => ({ ...current, [key]: event.target.value as TRunFormValues[K] }));
    };

  const onSubmit = async (event: FormEvent) => {
    event.preventDefault();
    runOne.reset();
    runMany.reset();
    if (!request.ok) {
      setFormProblem(request.message);
      return;
    }
    setFormProblem(null);
    try {
      if (request.replicas === 1) {
        const result = await runOne.mutateAsync(request.run);
        router.push(`/containers/${result.container.id}`);
        return;
      }
      const deployment = deploymentInputOf(request.run, request.replicas);
      if (!deployment) {
        setFormProblem(`Name: ${request.replicas} replicas form a deployment, which needs a name`);
        return;
      }
      const result = await runMany.mutateAsync(deployment);
      router.push(`/deployments/${encodeURIComponent(result.deployment.id)}`);
    } catch {
      // The mutation keeps the error; it shows beside the form and the values stay.
    }
  };

  return (
    <div className={styles.layout}>
      <form className="card" onSubmit={onSubmit} aria-label="Run a container" noValidate>
        <div className="form-grid">
          <label className="wide">
            Image
            <input
              name="image"
              value={values.image}
              onChange={set("image")}
              placeholder="busybox:latest"
              list={imagesListId}
              autoComplete="off"
              spellCheck={false}
              required
            />
          </label>
          <datalist id={imagesListId}>
            {knownTags.map((tag) => (
              <option key={tag} value={tag} />
            ))}
          </datalist>
          <label className="wide">
            Command
            <input
              name="command"
              value={values.command}
              onChange={set("command")}
              placeholder="the image's default; quote words with spaces: sh -c 'sleep 3600'"
              className="mono"
              autoComplete="off"
              spellCheck={false}
            />
          </label>
          <label>
            Name
            <input
              name="name"
              value={values.name}
              onChange={set("name")}
              placeholder={Number(values.replicas) > 1 ? "required for replicas" : "generated when empty"}
              autoComplete="off"
              spellCheck={false}
            />
          </label>
          <label>
            Replicas
            <input
              name="replicas"
              type="number"
              min={1}
              step={1}
              value={values.replicas}
              onChange={set("replicas")}
            />
          </label>
          <label>
            Strategy
            <select
              name="strategy"
              value={values.strategy}
              onChange={(event) =>
                setValues((current) => ({ ...current, strategy: event.target.value as TStrategy }))
              }
            >
              <option value="binpack">binpack (fill hosts up)</option>
              <option value="spread">spread (least allocated)</option>
            </select>
          </label>
        </div>

        <fieldset className={sections.fieldset}>
          <legend className={sections.legend}>Limits</legend>
          <div className="form-grid">
            <label>
              CPUs
              <input
                name="cpus"
                value={values.cpus}
                onChange={set("cpus")}
                placeholder="e.g. 0.5 or 500m"
                inputMode="decimal"
                autoComplete="off"
              />
            </label>
            <label>
              Memory
              <input
                name="memory"
                value={values.memory}
                onChange={set("memory")}
                placeholder="e.g. 64m or 1g"
                autoComplete="off"
              />
            </label>
            <label>
              Pids
              <input
                name="pids"
                value={values.pids}
                onChange={set("pids")}
                placeholder="e.g. 100"
                inputMode="numeric"
                autoComplete="off"
              />
            </label>
          </div>
          <p className={`muted ${sections.hint}`}>
            The scheduler reserves what the limits say; empty means no limit and no reservation.
          </p>
        </fieldset>

        <fieldset className={sections.fieldset}>
          <legend className={sections.legend}>Runtime</legend>
          <div className="form-grid">
            <label>
              Restart policy
              <select
                name="restart"
                value={values.restart}
                onChange={(event) =>
                  setValues((current) => ({ ...current, restart: event.target.value as TRestartChoice }))
                }
              >
                <option value="no">no</option>
                <option value="always">always</option>
                <option value="on-failure">on-failure</option>
              </select>
            </label>
            {values.restart === "on-failure" ? (
              <label>
                Max retries
                <input
                  name="maxRetries"
                  value={values.maxRetries}
                  onChange={set("maxRetries")}
                  placeholder="unlimited"
                  inputMode="numeric"
                  autoComplete="off"
                />
              </label>
            ) : null}
            <label>
              Ports
              <input
                name="ports"
                value={values.ports}
                onChange={set("ports")}
                placeholder="8080:80, 5353:53/udp"
                className="mono"
                autoComplete="off"
                spellCheck={false}
              />
            </label>
            <label>
              Constraints
              <input
                name="constraints"
                value={values.constraints}
                onChange={set("constraints")}
                placeholder="zone=a,disk!=hdd"
                className="mono"
                autoComplete="off"
                spellCheck={false}
              />
            </label>
            <label className="wide">
              Environment
              <textarea
                name="env"
                value={values.env}
                onChange={set("env")}
                placeholder={"KEY=value, one per line"}
                rows={4}
                spellCheck={false}
              />
            </label>
          </div>
        </fieldset>

        <fieldset className={sections.fieldset}>
          <legend className={sections.legend}>Volumes and networks</legend>
          <div className={`form-grid ${styles.halves}`}>
            <div className="wide">
              <label>
                Volumes
                <textarea
                  name="volumes"
                  value={values.volumes}
                  onChange={set("volumes")}
                  placeholder={"data:/var/lib/app\n/srv/data/app:/etc/app:ro"}
                  rows={3}
                  spellCheck={false}
                  aria-invalid={blamed.has("volumes") || undefined}
                  aria-describedby={`${helpId}-volumes`}
                />
              </label>
              <p id={`${helpId}-volumes`} className={`muted ${sections.hint}`}>
                One <code>-v</code> per line. A name mounts that named volume: the container goes to the host
                that has it, or the volume is created where the container lands. A path mounts a host
                directory an administrator allowed in Settings. Add <code>:ro</code> for read-only.
              </p>
            </div>
            <div>
              <label>
                Tmpfs
                <textarea
                  name="tmpfs"
                  value={values.tmpfs}
                  onChange={set("tmpfs")}
                  placeholder="/scratch:size=16m"
                  rows={2}
                  spellCheck={false}
                  aria-invalid={blamed.has("tmpfs") || undefined}
                  aria-describedby={`${helpId}-tmpfs`}
                />
              </label>
              <p id={`${helpId}-tmpfs`} className={`muted ${sections.hint}`}>
                One per line; 64 MiB without a size. It lives in memory and counts against the memory limit.
              </p>
            </div>
            <div>
              <label>
                Networks
                <input
                  name="networks"
                  value={values.networks}
                  onChange={set("networks")}
                  placeholder="frontend, backend"
                  className="mono"
                  autoComplete="off"
                  spellCheck={false}
                  aria-invalid={blamed.has("networks") || undefined}
                  aria-describedby={`${helpId}-networks`}
                />
              </label>
              <p id={`${helpId}-networks`} className={`muted ${sections.hint}`}>
                Separated by commas or spaces. Containers on one network reach each other by name on that
                host; a missing network is created there.
              </p>
            </div>
          </div>
        </fieldset>

        <HealthCheckFields
          values={values}
          onChange={(change) => setValues((current) => ({ ...current, ...change }))}
          description={HEALTH_HINT}
        />

        {formProblem ? (
          <p role="alert" className="error-note">
            {formProblem}
          </p>
        ) : null}
        {apiProblem ? (
          <p role="alert" className="error-note">
            {apiProblem}
          </p>
        ) : null}
        <div className={styles.actions}>
          <button type="submit" className="primary" disabled={submitting}>
            Run
          </button>
          {submitting ? <span className="muted">Placing…</span> : null}
        </div>
      </form>
      {/* Its own column (not a card after a card), so it sits beside the form. */}
      <aside className={styles.side}>
        <PlacementPreview request={request} />
      </aside>
    </div>
  );
}
