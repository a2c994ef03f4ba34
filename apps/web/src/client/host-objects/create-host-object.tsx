"use client";
// Create a host object (a volume, a network): on the host chosen here, or on
// the host whose page this is. The engine on that host does the work, so only
// online hosts are offered. Operators only.
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { type FormEvent, useState } from "react";
import { HostPicker } from "../hosts/host-picker";
import { useTRPC } from "../trpc";
import { ErrorNote } from "../ui/error-note";
import { hostObjectApi, type THostObjectOf, type THostObjectUiKind } from "./host-object-kind";
import styles from "./host-objects.module.css";

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
  const [chosenHostId, setChosenHostId] = useState<string | null>(null);
  const [name, setName] = useState("");
  const [problem, setProblem] = useState<string | null>(null);
  const hostId = fixedHostId ?? chosenHostId ?? "";
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
          <HostPicker label="Host" hostId={chosenHostId} onChange={setChosenHostId} onlineOnly />
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
          <ErrorNote error={create.error} />
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
