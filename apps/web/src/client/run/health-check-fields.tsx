"use client";
// One health check section for the run form and a deployment's edit form: the
// labels and `name`s are what the API's problems (formProblemOf) and the
// browser tests go by, so both forms must say them alike.
import type { ReactNode } from "react";
import styles from "./form-section.module.css";
import type { THealthChoice, THealthFieldValues } from "./health-check";

type TTextField = Exclude<keyof THealthFieldValues, "healthType" | "healthRestart">;

export function HealthCheckFields({
  values,
  onChange,
  description,
}: {
  values: THealthFieldValues;
  onChange: (change: Partial<THealthFieldValues>) => void;
  /** Shown under the timing fields while a check is chosen. */
  description?: ReactNode;
}) {
  const set = (key: TTextField) => (event: { target: { value: string } }) =>
    onChange({ [key]: event.target.value } as Partial<THealthFieldValues>);

  return (
    <fieldset className={styles.fieldset} data-testid="health-check">
      <legend className={styles.legend}>Health check</legend>
      <div className="form-grid">
        <label>
          Check
          <select
            name="healthType"
            value={values.healthType}
            onChange={(event) => onChange({ healthType: event.target.value as THealthChoice })}
          >
            <option value="none">none</option>
            <option value="exec">command (exec)</option>
            <option value="http">HTTP GET</option>
            <option value="tcp">TCP connect</option>
          </select>
        </label>
        {values.healthType === "exec" ? (
          <label className="wide">
            Health command
            <input
              name="healthCommand"
              value={values.healthCommand}
              onChange={set("healthCommand")}
              placeholder="pg_isready -q || exit 1"
              className="mono"
              autoComplete="off"
              spellCheck={false}
            />
          </label>
        ) : null}
        {values.healthType === "http" || values.healthType === "tcp" ? (
          <label>
            Health port
            <input
              name="healthPort"
              value={values.healthPort}
              onChange={set("healthPort")}
              placeholder="the container's port, e.g. 80"
              inputMode="numeric"
              autoComplete="off"
            />
          </label>
        ) : null}
        {values.healthType === "http" ? (
          <label>
            Health path
            <input
              name="healthPath"
              value={values.healthPath}
              onChange={set("healthPath")}
              placeholder="/"
              className="mono"
              autoComplete="off"
              spellCheck={false}
            />
          </label>
        ) : null}
      </div>
      {values.healthType !== "none" ? (
        <>
          <div className={`form-grid ${styles.timing}`}>
            <label>
              Interval
              <input
                name="healthInterval"
                value={values.healthInterval}
                onChange={set("healthInterval")}
                placeholder="30s"
                autoComplete="off"
              />
            </label>
            <label>
              Timeout
              <input
                name="healthTimeout"
                value={values.healthTimeout}
                onChange={set("healthTimeout")}
                placeholder="30s"
                autoComplete="off"
              />
            </label>
            <label>
              Retries
              <input
                name="healthRetries"
                value={values.healthRetries}
                onChange={set("healthRetries")}
                placeholder="3"
                inputMode="numeric"
                autoComplete="off"
              />
            </label>
            <label>
              Start period
              <input
                name="healthStartPeriod"
                value={values.healthStartPeriod}
                onChange={set("healthStartPeriod")}
                placeholder="0s"
                autoComplete="off"
              />
            </label>
            <label className={styles.checkbox}>
              <input
                type="checkbox"
                name="healthRestart"
                checked={values.healthRestart}
                onChange={(event) => onChange({ healthRestart: event.target.checked })}
              />
              Restart when unhealthy
            </label>
          </div>
          {description ? <p className={`muted ${styles.hint}`}>{description}</p> : null}
        </>
      ) : null}
    </fieldset>
  );
}
