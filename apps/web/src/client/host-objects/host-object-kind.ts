// What one kind of host object brings to the shared dashboard pieces: its noun
// (which is also its tRPC key), its words, its own table columns and create
// fields. The Volumes and Networks pages, a host's sections and their actions
// are one set of components over this descriptor.
import type { ReactNode } from "react";
import type { RouterOutputs } from "../api-types";
import type { useTRPC } from "../trpc";

export type THostObjectNoun = "volume" | "network";

export type THostObjectOf<N extends THostObjectNoun> = RouterOutputs[N]["list"]["items"][number];

export interface THostObjectUiKind<N extends THostObjectNoun = THostObjectNoun> {
  noun: N;
  plural: string;
  /** The page's and a host section's heading: "Volumes". */
  title: string;
  subtitle: string;
  /** After "Run" (or "Create one here, or run") in the empty state. */
  emptyHint: ReactNode;
  /** Added to the confirmation of a removal. */
  removeWarning?: string;
  /** The kind's table headers and cells between Host and Used by. */
  headers: ReactNode;
  cells(object: THostObjectOf<N>): ReactNode;
  refresh: { label: string; title: string };
  createPlaceholder: string;
  /** Fields of the create form beyond host and name, and what they add to the input. */
  useCreateFields(): { fields: ReactNode; input: object };
  /** Said after "Created volume x on host-a", before the full stop. */
  createdDetail?(object: THostObjectOf<N>): string;
}

/**
 * A noun's procedures. volume.* and network.* come from one router factory
 * and differ only in their object's type and create's extra fields, which the
 * kind's own callbacks handle; the shared components call them in one shape.
 */
export function hostObjectApi(trpc: ReturnType<typeof useTRPC>, noun: THostObjectNoun) {
  return trpc[noun] as unknown as ReturnType<typeof useTRPC>["volume"];
}
