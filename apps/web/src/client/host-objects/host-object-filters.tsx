"use client";
// The filter bar of the Volumes and Networks pages: a host select that
// applies at once and a name search that applies after a pause in typing.
import { useRef } from "react";
import { HostSelect, useDebouncedText } from "../containers/container-filters";
import type { THostObjectFilter } from "./host-object-filter";

export function HostObjectFilters({
  filter,
  onChange,
  label,
}: {
  filter: THostObjectFilter;
  onChange: (filter: THostObjectFilter) => void;
  /** What is filtered, for the search landmark: "volumes" or "networks". */
  label: string;
}) {
  const current = useRef(filter);
  current.current = filter;
  const [name, setName] = useDebouncedText(filter.name, (text) =>
    onChange({ ...current.current, name: text.trim() }),
  );
  return (
    <search className="filters" aria-label={`Filter ${label}`}>
      <HostSelect hostId={filter.hostId} onChange={(hostId) => onChange({ ...filter, hostId })} />
      <label>
        Name
        <input
          type="search"
          value={name}
          placeholder="part of a name"
          maxLength={64}
          autoComplete="off"
          spellCheck={false}
          onChange={(event) => setName(event.target.value)}
        />
      </label>
    </search>
  );
}
