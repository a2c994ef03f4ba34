"use client";
// Settings → Bind mounts: the host path prefixes a container may mount (`-v
// /srv/data/app:/data`). Everything else is refused when a container is run;
// none at all means no bind mounts. Admins edit the list, others read it.
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { type FormEvent, useId, useState } from "react";
import { useCan } from "../session";
import { useTRPC } from "../trpc";
import { ErrorNote } from "../ui/error-note";
import { prefixLines } from "./prefix-lines";
import styles from "./settings.module.css";

function PrefixEditor({ prefixes }: { prefixes: string[] }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const helpId = useId();
  // Null until the admin types: the field then shows what the server holds.
  const [draft, setDraft] = useState<string | null>(null);
  const update = useMutation(
    trpc.settings.update.mutationOptions({
      onSuccess: (saved) => {
        queryClient.setQueryData(trpc.settings.get.queryKey(), saved);
        setDraft(null);
      },
    }),
  );
  const text = draft ?? prefixes.join("\n");
  const onSubmit = (event: FormEvent) => {
    event.preventDefault();
    update.mutate({ bindMountPrefixes: prefixLines(text) });
  };
  return (
    <form onSubmit={onSubmit} aria-label="Bind mount prefixes" noValidate>
      <p className={styles.intro}>
        {prefixes.length === 0
          ? "No host paths are allowed now: every bind mount is refused."
          : `Containers may bind-mount host paths under ${prefixes.length} prefix${prefixes.length === 1 ? "" : "es"}.`}
      </p>
      <label>
        Allowed host path prefixes
        <textarea
          value={text}
          onChange={(event) => {
            update.reset();
            setDraft(event.target.value);
          }}
          placeholder={"e.g. /srv/data\n/mnt/shared"}
          rows={4}
          spellCheck={false}
          aria-describedby={helpId}
        />
      </label>
      <p id={helpId} className={`muted ${styles.help}`}>
        One absolute path per line. A container may bind-mount a host path under one of them; anything else is
        refused. Leave empty to refuse every bind mount.
      </p>
      <div className={`row ${styles.formActions}`}>
        <button type="submit" className="primary" disabled={update.isPending || draft === null}>
          {update.isPending ? "Saving…" : "Save prefixes"}
        </button>
        {draft !== null ? (
          <button type="button" onClick={() => setDraft(null)} disabled={update.isPending}>
            Discard changes
          </button>
        ) : null}
        {update.isSuccess ? (
          <span className="muted" role="status">
            Saved.
          </span>
        ) : null}
      </div>
      <ErrorNote error={update.error} />
    </form>
  );
}

export function BindMountsSection() {
  const trpc = useTRPC();
  const isAdmin = useCan("admin");
  const settings = useQuery(trpc.settings.get.queryOptions(undefined, { staleTime: 30_000 }));
  const prefixes = settings.data?.bindMountPrefixes ?? [];
  return (
    <section className="section" aria-labelledby="settings-bind-mounts">
      <h2 id="settings-bind-mounts">Bind mounts</h2>
      <div className="card">
        <ErrorNote error={settings.error} />
        {settings.isPending ? (
          <p className="muted">Loading…</p>
        ) : settings.isError ? null : isAdmin ? (
          <PrefixEditor prefixes={prefixes} />
        ) : (
          <>
            {prefixes.length === 0 ? (
              <p>No host paths are allowed: containers cannot bind-mount host directories.</p>
            ) : (
              <>
                <p className={styles.intro}>Containers may bind-mount host paths under:</p>
                <ul className={styles.prefixes} data-testid="bind-mount-prefixes">
                  {prefixes.map((prefix) => (
                    <li key={prefix} className="mono">
                      {prefix}
                    </li>
                  ))}
                </ul>
              </>
            )}
            <p className="muted">Only an administrator can change them.</p>
          </>
        )}
      </div>
    </section>
  );
}
