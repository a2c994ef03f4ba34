/**
 * The host paths bind mounts may use, as the newest desired set carried them
 * (fleet-wide policy, not part of any spec). Every container creation resolves
 * its bind sources against the list current at that moment, so a launch
 * retried after the list changed follows the new list. Until a set arrives the
 * list is empty: no bind mounts.
 */
import type { TContainerSpec } from "@fleet/shared/domain/container-spec";
import { type RealPath, resolveBindSources } from "../runtime/bind-sources";

export class BindMountPolicy {
  private prefixesValue: readonly string[] = [];

  constructor(private readonly realpath?: RealPath) {}

  get prefixes(): readonly string[] {
    return this.prefixesValue;
  }

  update(prefixes: readonly string[]): void {
    this.prefixesValue = [...prefixes];
  }

  /** The spec to create: bind sources replaced by their real paths; throws `bind-mount-refused` (see bind-sources.ts). */
  resolve(spec: TContainerSpec): Promise<TContainerSpec> {
    return resolveBindSources(spec, this.prefixesValue, this.realpath);
  }
}
