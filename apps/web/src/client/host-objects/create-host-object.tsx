"use client";
// Create a host object (a volume, a network): on the host chosen here, or on
// the host whose page this is. The engine on that host does the work, so
// offline hosts are listed but cannot be chosen. Operators only.
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { type FormEvent, useMemo, useState } from "react";
import { useTRPC } from "../trpc";
import { ErrorNote } from "../ui/error-note";
import { hostObjectApi, type THostObjectOf, type THostObjectUiKind } from "./host-object-kind";
import styles from "./host-objects.module.css";

const HOST_CHOICES = 200;

/** The first page of hosts, online ones first (the engine has to answer for the create to succeed). */
function useHostChoices(enabled: boolean) {
  const trpc = useTRPC();
  const hosts = useQuery(
    trpc.host.list.queryOptions({ limit: HOST_CHOICES }, { staleTime: 30_000, enabled }),
  );
  const choices = useMemo(
    () =>
      (hosts.data?.items ?? [])
        .map((host) => ({ id: host.id, name: host.name, online: host.status === "online" }))
        .sort((a, b) => Number(b.online) - Number(a.online)),
    [hosts.data],
  );
  return { choices, error: hosts.error, isPending: hosts.isPending && enabled };
}

export function CreateHostObject({
  kind,
  fixedHostId,
}: {
  kind: THostObjectUiKind;
  /** Set on a host's page: no host picker. */
  fixedHostId?: string;
}) {
  const trpc = useTRPC();
  const api = hostObjectApi(trpc, kind.noun);
  const queryClient = useQueryClient();
  const create = useMutation(
    api.create.mutationOptions({
      onSuccess: () => queryClient.invalidateQueries({ queryKey: api.pathKey() }),
    }),
  );
  const created = (create.data as Record<string, THostObjectOf<typeof kind.noun>> | undefined)?.[kind.noun];
  const extra = kind.useCreateFields();
  const hosts = useHostChoices(!fixedHostId);
  const [chosenHostId, setChosenHostId] = useState("");
  const [name, setName] = useState("");
  const [problem, setProblem] = useState<string | null>(null);
  const firstOnline = hosts.choices.find((host) => host.online)?.id ?? "";
  const hostId = fixedHostId ?? (chosenHostId || firstOnline);
  const what = kind.noun;

  const onSubmit = async (event: FormEvent) => {
    event.preventDefault();
    const trimmed = name.trim();
    if (!hostId) {
      setProblem("Host: no host is online to create it on");
      return;
    }
    if (trimmed === "") {
      setProblem(`Name: enter a name for the ${what}`);
      return;
    }
    setProblem(null);
    try {
      await create.mutateAsync({ hostId, name: trimmed, ...extra.input });
      setName("");
    } catch {
      // The mutation keeps the error; the form shows it and keeps the name.
    }
  };

  return (
    <>
      <form className={styles.createForm} onSubmit={onSubmit} aria-label={`Create a ${what}`} noValidate>
        {fixedHostId ? null : (
          <label>
            Host
            <select value={hostId} onChange={(event) => setChosenHostId(event.target.value)}>
              {hosts.choices.length === 0 ? (
                <option value="">{hosts.isPending ? "Loading…" : "No hosts"}</option>
              ) : null}
              {hosts.choices.map((host) => (
                <option key={host.id} value={host.id} disabled={!host.online}>
                  {host.online ? host.name : `${host.name} (offline)`}
                </option>
              ))}
            </select>
          </label>
        )}
        <label className={styles.nameField}>
          {`${what[0]?.toUpperCase() ?? ""}${what.slice(1)} name`}
          <input
            value={name}
            onChange={(event) => setName(event.target.value)}
            placeholder={kind.createPlaceholder}
            maxLength={64}
            autoComplete="off"
            spellCheck={false}
          />
        </label>
        {extra.fields}
        <button type="submit" className="primary" disabled={create.isPending}>
          {create.isPending ? "Creating…" : `Create ${what}`}
        </button>
        {problem ? (
          <p role="alert" className={`error-note ${styles.formNote}`}>
            {problem}
          </p>
        ) : null}
        <div className={styles.formNote}>
          <ErrorNote error={hosts.error ?? create.error} />
        </div>
      </form>
      {created ? (
        <p className="muted" role="status">
          {`Created ${what} ${created.name} on ${created.hostName}${kind.createdDetail?.(created) ?? ""}.`}
        </p>
      ) : null}
    </>
  );
}
