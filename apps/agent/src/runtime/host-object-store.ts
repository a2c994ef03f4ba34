/**
 * The host-object store: the part of the runtime contract (see driver.ts) for
 * named objects that live on one host beside the containers using them.
 * Volumes and networks behave alike (created by name, listed, removed unless
 * a container uses them), so one contract serves both, parameterised by kind;
 * another kind (secrets, …) is one entry in `HostObjectKinds` and one in each
 * store's table of kinds.
 */

/** A named volume as the engine lists it. */
export interface VolumeSummary {
  name: string;
  driver: string;
  /** ISO time, or null where the engine does not say (Podman's df). */
  createdAt: string | null;
  /** Bytes used as the engine measured them, or null where it did not. */
  sizeBytes: number | null;
  labels: Record<string, string>;
}

/** A network as the engine lists it, the engine's own (`bridge`, `host`, …) included. */
export interface NetworkSummary {
  id: string;
  name: string;
  driver: string;
  internal: boolean;
  subnet: string | null;
  gateway: string | null;
  createdAt: string | null;
}

/** Per kind: what creating one takes and what a list shows of it. */
export interface HostObjectKinds {
  /**
   * Creating an existing volume returns it as it is. Listing measures sizes
   * where the engine does (slow for big volumes). Removing one a container
   * uses, even a stopped one, is a `conflict`.
   */
  volume: { create: { name: string }; summary: VolumeSummary };
  /**
   * A bridge; creating one whose name exists is a `conflict`, and so is
   * removing one a container is connected to.
   */
  network: { create: { name: string; internal: boolean }; summary: NetworkSummary };
}

export type HostObjectKind = keyof HostObjectKinds;
export type HostObjectCreate<K extends HostObjectKind> = HostObjectKinds[K]["create"];
export type HostObjectSummary<K extends HostObjectKind> = HostObjectKinds[K]["summary"];

export interface HostObjectStore {
  create<K extends HostObjectKind>(kind: K, opts: HostObjectCreate<K>): Promise<HostObjectSummary<K>>;
  list<K extends HostObjectKind>(kind: K): Promise<Array<HostObjectSummary<K>>>;
  /** `conflict` while a container uses it (see each kind), `not-found` when there is none. */
  remove(kind: HostObjectKind, name: string): Promise<void>;
}
