"use client";
// Choosing one host among thousands: a name search asks the server for the
// first matches (never the whole fleet), and the chosen host stays offered
// even when the search no longer matches it.
import { keepPreviousData, useQuery } from "@tanstack/react-query";
import { useEffect, useState } from "react";
import { useTRPC } from "../trpc";
import styles from "./hosts.module.css";

const MATCHES = 50;
const TYPING_PAUSE_MS = 300;

interface THostChoice {
  id: string;
  name: string;
  status: "online" | "offline";
}

/** The first hosts by name whose name contains `search`, and how many match in all. */
function useHostMatches(search: string, options: { enabled?: boolean; onlineOnly?: boolean } = {}) {
  const trpc = useTRPC();
  const [text, setText] = useState(search.trim());
  useEffect(() => {
    const timer = setTimeout(() => setText(search.trim()), TYPING_PAUSE_MS);
    return () => clearTimeout(timer);
  }, [search]);
  const list = useQuery(
    trpc.host.list.queryOptions(
      { name: text || undefined, status: options.onlineOnly ? "online" : undefined, limit: MATCHES },
      { staleTime: 30_000, enabled: options.enabled ?? true, placeholderData: keepPreviousData },
    ),
  );
  const choices: THostChoice[] = (list.data?.items ?? []).map((host) => ({
    id: host.id,
    name: host.name,
    status: host.status,
  }));
  return { choices, total: list.data?.total ?? null, error: list.error, isPending: list.isPending };
}

export function HostPicker({
  label,
  hostId,
  onChange,
  anyLabel,
  onlineOnly = false,
  name,
}: {
  label: string;
  hostId: string | null;
  onChange: (hostId: string | null) => void;
  /** Offered first with the value "" (e.g. "All hosts"); without it a host must be chosen. */
  anyLabel?: string;
  /** Only online hosts are offered (their engine must answer). */
  onlineOnly?: boolean;
  name?: string;
}) {
  const trpc = useTRPC();
  const [search, setSearch] = useState("");
  const matches = useHostMatches(search, { onlineOnly });
  const listed = matches.choices.some((host) => host.id === hostId);
  const chosen = useQuery(
    trpc.host.get.queryOptions(
      { id: hostId ?? "" },
      { enabled: Boolean(hostId) && !listed, staleTime: 60_000 },
    ),
  );
  // Without an "any" choice the first match is chosen, as a plain select would show it.
  const first = matches.choices[0]?.id ?? null;
  useEffect(() => {
    if (anyLabel === undefined && !hostId && first) onChange(first);
  }, [anyLabel, hostId, first, onChange]);
  const more = matches.total !== null && matches.total > matches.choices.length;
  return (
    <label>
      {label}
      <span className={styles.picker}>
        <select name={name} value={hostId ?? ""} onChange={(event) => onChange(event.target.value || null)}>
          {anyLabel !== undefined ? <option value="">{anyLabel}</option> : null}
          {anyLabel === undefined && matches.choices.length === 0 && !hostId ? (
            <option value="">{matches.isPending ? "Loading…" : "No hosts"}</option>
          ) : null}
          {hostId && !listed ? <option value={hostId}>{chosen.data?.name ?? hostId}</option> : null}
          {matches.choices.map((host) => (
            <option key={host.id} value={host.id}>
              {host.status === "online" ? host.name : `${host.name} (offline)`}
            </option>
          ))}
        </select>
        <input
          type="search"
          className={styles.pickerSearch}
          value={search}
          placeholder={more ? `${matches.total} hosts: find…` : "Find by name"}
          aria-label={`Find a host for ${label} by name`}
          maxLength={128}
          autoComplete="off"
          spellCheck={false}
          onChange={(event) => setSearch(event.target.value)}
        />
      </span>
    </label>
  );
}
