"use client";
// The containers list's filter bar. Text filters apply after a short pause in
// typing so each keystroke does not ask the server; selects apply at once.
import { type TContainerHealth, ZContainerHealth } from "@fleet/shared/domain/container-spec";
import { useEffect, useRef, useState } from "react";
import { HostPicker } from "../hosts/host-picker";
import { LISTED_STATES, type TContainerFilter } from "./container-query";

const TYPING_PAUSE_MS = 300;

/** Text typed into a filter, handed on after a pause; also used by the Volumes and Networks filters. */
export function useDebouncedText(value: string, onSettled: (text: string) => void) {
  const [text, setText] = useState(value);
  const latest = useRef({ text, onSettled });
  latest.current = { text, onSettled };

  // A change from outside (back button, "Clear filters") replaces what is typed.
  useEffect(() => {
    if (latest.current.text.trim() !== value) setText(value);
  }, [value]);

  useEffect(() => {
    if (text.trim() === value) return;
    const timer = setTimeout(() => latest.current.onSettled(text), TYPING_PAUSE_MS);
    return () => clearTimeout(timer);
  }, [text, value]);

  return [text, setText] as const;
}

/** The host filter of the containers, volumes and networks lists. */
export function HostSelect({
  hostId,
  onChange,
}: {
  hostId: string | null;
  onChange: (hostId: string | null) => void;
}) {
  return <HostPicker label="Host" hostId={hostId} onChange={onChange} anyLabel="All hosts" />;
}

function StateSelect({
  states,
  onChange,
}: {
  states: TContainerFilter["states"];
  onChange: (states: TContainerFilter["states"]) => void;
}) {
  // Several states come only from a link (`?state=running,restarting`): offer that choice as it is.
  const combined = states.length > 1 ? states.join(",") : null;
  return (
    <label>
      State
      <select
        value={states.join(",")}
        onChange={(event) =>
          onChange(
            event.target.value
              ? LISTED_STATES.filter((state) => event.target.value.split(",").includes(state))
              : [],
          )
        }
      >
        <option value="">Any state</option>
        {combined ? <option value={combined}>{states.join(" or ")}</option> : null}
        {LISTED_STATES.map((state) => (
          <option key={state} value={state}>
            {state}
          </option>
        ))}
      </select>
    </label>
  );
}

export function ContainerFilters({
  filter,
  onChange,
}: {
  filter: TContainerFilter;
  onChange: (filter: TContainerFilter) => void;
}) {
  const current = useRef(filter);
  current.current = filter;
  const [image, setImage] = useDebouncedText(filter.image, (text) =>
    onChange({ ...current.current, image: text.trim() }),
  );
  const [name, setName] = useDebouncedText(filter.name, (text) =>
    onChange({ ...current.current, name: text.trim() }),
  );

  return (
    <search className="filters" aria-label="Filter containers">
      <HostSelect hostId={filter.hostId} onChange={(hostId) => onChange({ ...filter, hostId })} />
      <StateSelect states={filter.states} onChange={(states) => onChange({ ...filter, states })} />
      <label>
        Health
        <select
          value={filter.health ?? ""}
          onChange={(event) =>
            onChange({ ...filter, health: (event.target.value as TContainerHealth | "") || null })
          }
        >
          <option value="">Any health</option>
          {ZContainerHealth.options.map((health) => (
            <option key={health} value={health}>
              {health}
            </option>
          ))}
        </select>
      </label>
      <label>
        Image
        <input
          type="search"
          value={image}
          placeholder="e.g. nginx"
          maxLength={512}
          onChange={(event) => setImage(event.target.value)}
        />
      </label>
      <label>
        Name
        <input
          type="search"
          value={name}
          placeholder="e.g. web"
          maxLength={128}
          onChange={(event) => setName(event.target.value)}
        />
      </label>
    </search>
  );
}
