// The newest sample of every container and host, in memory: live views and
// the fleet summary read it instead of asking Postgres for "the last row per
// subject" on every refresh. Also remembers what changed since it was last
// asked, for the throttled `"metrics.live"` messages.
import type { TContainerSample, THostSample } from "@fleet/shared/domain/metrics";
import type { LatestContainerSample, LatestHostSample, LiveMetrics } from "../../events/event-bus";

export interface LatestFilter {
  hostId?: string;
  containerId?: string;
  /** Only these containers (a page of a list); host samples are left out, as with `containerId`. */
  containerIds?: ReadonlySet<string>;
}

function containersOnly(filter: LatestFilter): boolean {
  return filter.containerId !== undefined || filter.containerIds !== undefined;
}

export class LatestSamples {
  private readonly containers = new Map<string, LatestContainerSample>();
  private readonly hosts = new Map<string, LatestHostSample>();
  private readonly changedContainers = new Set<string>();
  private readonly changedHosts = new Set<string>();

  /** Keeps the sample if it is newer than the one held; returns whether it did. */
  recordContainer(hostId: string, sample: TContainerSample): boolean {
    const held = this.containers.get(sample.containerId);
    if (held && held.sample.ts >= sample.ts) return false;
    this.containers.set(sample.containerId, { hostId, sample });
    this.changedContainers.add(sample.containerId);
    return true;
  }

  recordHost(hostId: string, sample: THostSample): boolean {
    const held = this.hosts.get(hostId);
    if (held && held.sample.ts >= sample.ts) return false;
    this.hosts.set(hostId, { hostId, sample });
    this.changedHosts.add(hostId);
    return true;
  }

  container(containerId: string): LatestContainerSample | undefined {
    return this.containers.get(containerId);
  }

  host(hostId: string): LatestHostSample | undefined {
    return this.hosts.get(hostId);
  }

  /** Everything held, optionally for one host or one container, newer than `since` (epoch ms). */
  snapshot(
    filter: LatestFilter = {},
    since = 0,
  ): { containers: LatestContainerSample[]; hosts: LatestHostSample[] } {
    const containers: LatestContainerSample[] = [];
    for (const entry of this.containers.values()) {
      if (entry.sample.ts < since || !matches(filter, entry.hostId, entry.sample.containerId)) continue;
      containers.push(entry);
    }
    const hosts: LatestHostSample[] = [];
    if (!containersOnly(filter)) {
      for (const entry of this.hosts.values()) {
        if (entry.sample.ts < since || (filter.hostId !== undefined && filter.hostId !== entry.hostId))
          continue;
        hosts.push(entry);
      }
    }
    return { containers, hosts };
  }

  /** What changed since the previous call (and forgets it). */
  takeChanges(): { containers: LatestContainerSample[]; hosts: LatestHostSample[] } {
    const containers = [...this.changedContainers].flatMap((id) => this.containers.get(id) ?? []);
    const hosts = [...this.changedHosts].flatMap((id) => this.hosts.get(id) ?? []);
    this.changedContainers.clear();
    this.changedHosts.clear();
    return { containers, hosts };
  }

  /** Forgets samples older than `before` (epoch ms): stopped containers and removed hosts. */
  prune(before: number): number {
    let removed = 0;
    for (const [id, entry] of this.containers) {
      if (entry.sample.ts < before) {
        this.containers.delete(id);
        this.changedContainers.delete(id);
        removed++;
      }
    }
    for (const [id, entry] of this.hosts) {
      if (entry.sample.ts < before) {
        this.hosts.delete(id);
        this.changedHosts.delete(id);
        removed++;
      }
    }
    return removed;
  }

  /** Forgets one host and its containers (a removed host). */
  forgetHost(hostId: string): void {
    this.hosts.delete(hostId);
    this.changedHosts.delete(hostId);
    for (const [id, entry] of this.containers) {
      if (entry.hostId === hostId) {
        this.containers.delete(id);
        this.changedContainers.delete(id);
      }
    }
  }

  get size(): { containers: number; hosts: number } {
    return { containers: this.containers.size, hosts: this.hosts.size };
  }
}

export function matches(filter: LatestFilter, hostId: string, containerId: string): boolean {
  if (filter.hostId !== undefined && filter.hostId !== hostId) return false;
  if (filter.containerId !== undefined && filter.containerId !== containerId) return false;
  if (filter.containerIds !== undefined && !filter.containerIds.has(containerId)) return false;
  return true;
}

/** A live message narrowed to what one subscriber asked for; null when nothing is left. */
export function filterLiveMetrics(message: LiveMetrics, filter: LatestFilter): LiveMetrics | null {
  if (filter.hostId === undefined && !containersOnly(filter)) return message;
  const containers = message.containers.filter((entry) =>
    matches(filter, entry.hostId, entry.sample.containerId),
  );
  const hosts = containersOnly(filter) ? [] : message.hosts.filter((entry) => entry.hostId === filter.hostId);
  if (containers.length === 0 && hosts.length === 0) return null;
  return { ...message, containers, hosts };
}
