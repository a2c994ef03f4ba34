// Which containers a host may report samples for: those placed on it (and,
// for a few minutes, those removed from it, whose last samples may still be
// on their way). Cached per host because every metrics frame asks; a miss
// reloads the host's set at most once per `minRefreshMs`, and a set older than
// `maxAgeMs` is reloaded anyway so a container moved elsewhere stops counting.

import type { Clock } from "@fleet/shared/clock";
import type { PrismaClient } from "../../db/client";

interface CachedHost {
  ids: Set<string>;
  loadedAt: number;
}

export interface HostContainerDirectoryOptions {
  db: PrismaClient;
  clock: Clock;
  minRefreshMs?: number;
  maxAgeMs?: number;
  /** How long after removal a container's samples are still accepted. */
  removedGraceMs?: number;
}

export class HostContainerDirectory {
  private readonly cache = new Map<string, CachedHost>();
  private readonly loading = new Map<string, Promise<CachedHost>>();
  private readonly minRefreshMs: number;
  private readonly maxAgeMs: number;
  private readonly removedGraceMs: number;

  constructor(private readonly options: HostContainerDirectoryOptions) {
    this.minRefreshMs = options.minRefreshMs ?? 1000;
    this.maxAgeMs = options.maxAgeMs ?? 30_000;
    this.removedGraceMs = options.removedGraceMs ?? 5 * 60_000;
  }

  /**
   * The containers of `hostId`: a set that holds every one of `containerIds` the
   * host runs. Read it, do not keep it (a reload replaces it).
   */
  async containersOf(hostId: string, containerIds: readonly string[]): Promise<ReadonlySet<string>> {
    return this.cachedContainersOf(hostId, containerIds) ?? (await this.load(hostId)).ids;
  }

  /**
   * As containersOf when the cached set will do (it is not too old, and holds every
   * one of `containerIds` or was loaded too recently to load again); null when the
   * set must be loaded. Every metrics frame asks, so the answer costs no allocation.
   */
  cachedContainersOf(hostId: string, containerIds: readonly string[]): ReadonlySet<string> | null {
    const entry = this.cache.get(hostId);
    if (entry === undefined) return null;
    const age = this.options.clock.now() - entry.loadedAt;
    if (age >= this.maxAgeMs) return null;
    if (age >= this.minRefreshMs) {
      for (const id of containerIds) if (!entry.ids.has(id)) return null;
    }
    return entry.ids;
  }

  /** Forget a host's set (a container was placed, moved or removed). */
  invalidate(hostId?: string | null): void {
    if (hostId === undefined || hostId === null) this.cache.clear();
    else this.cache.delete(hostId);
  }

  private load(hostId: string): Promise<CachedHost> {
    const pending = this.loading.get(hostId);
    if (pending) return pending;
    const promise = (async () => {
      const loadedAt = this.options.clock.now();
      const rows = await this.options.db.container.findMany({
        where: {
          hostId,
          OR: [{ removedAt: null }, { removedAt: { gte: new Date(loadedAt - this.removedGraceMs) } }],
        },
        select: { id: true },
      });
      const entry = { ids: new Set(rows.map((row) => row.id)), loadedAt };
      this.cache.set(hostId, entry);
      return entry;
    })().finally(() => this.loading.delete(hostId));
    this.loading.set(hostId, promise);
    return promise;
  }
}
