"use client";
// A column header that sorts the list on the server: a click sorts by it
// (in its natural first direction), a second click reverses it.
import type { ReactNode } from "react";

export interface TSortState<K extends string> {
  sort: K;
  direction: "asc" | "desc";
}

export function SortHeader<K extends string>({
  column,
  state,
  onSort,
  firstDirection = "asc",
  className,
  title,
  children,
}: {
  column: K;
  state: TSortState<K>;
  onSort: (next: TSortState<K>) => void;
  /** Names ascend; amounts and dates usually read best largest or newest first. */
  firstDirection?: "asc" | "desc";
  className?: string;
  title?: string;
  children: ReactNode;
}) {
  const active = state.sort === column;
  const next: TSortState<K> = {
    sort: column,
    direction: active ? (state.direction === "asc" ? "desc" : "asc") : firstDirection,
  };
  return (
    <th
      scope="col"
      className={className}
      title={title}
      aria-sort={active ? (state.direction === "asc" ? "ascending" : "descending") : undefined}
    >
      <button type="button" className="sort-header" onClick={() => onSort(next)}>
        {children}
        <span aria-hidden className="sort-arrow">
          {active ? (state.direction === "asc" ? " ▲" : " ▼") : ""}
        </span>
      </button>
    </th>
  );
}
