/**
 * What the engine's pull and push endpoints want from an image reference: the
 * repository and the tag (or digest) as separate query values, with a registry
 * port not mistaken for a tag (`127.0.0.1:5000/app`). Parsing itself is the
 * shared one, so the agent and the central agree on what a reference means.
 */
import { DEFAULT_REGISTRY, DEFAULT_TAG, ImageRefError, parseImageRef } from "@fleet/shared/image-ref";
import type { DriverErrorCode } from "../driver";
import { EngineError } from "./engine-error";

export interface EngineImageRef {
  /** The repository as the engine names it: `127.0.0.1:5000/team/app`, `busybox`. */
  repository: string;
  /** Tag or digest to ask for; `latest` when the reference has neither. */
  version: string;
  tag: string | null;
  digest: string | null;
  registry: string;
}

export function toEngineImageRef(image: string, action: string, code: DriverErrorCode): EngineImageRef {
  try {
    const ref = parseImageRef(image);
    let repository = `${ref.registry}/${ref.repository}`;
    if (ref.registry === DEFAULT_REGISTRY) repository = ref.repository.replace(/^library\/(?=[^/]+$)/, "");
    return {
      repository,
      version: ref.digest ?? ref.tag ?? DEFAULT_TAG,
      tag: ref.tag,
      digest: ref.digest,
      registry: ref.registry,
    };
  } catch (err) {
    if (err instanceof ImageRefError) throw new EngineError(code, `${action} failed: ${err.message}`);
    throw err;
  }
}

/** Whether `name` (from an engine's RepoDigests entry, `repo@sha256:…`) is the same repository as `ref`. */
export function sameRepository(name: string, ref: EngineImageRef): boolean {
  try {
    const other = parseImageRef(name);
    return `${other.registry}/${other.repository}` === toEngineQualified(ref);
  } catch {
    return false;
  }
}

function toEngineQualified(ref: EngineImageRef): string {
  const parsed = parseImageRef(ref.repository);
  return `${parsed.registry}/${parsed.repository}`;
}

/**
 * The registry digest of a pulled image from its RepoDigests (`repo@sha256:…`),
 * when the pull stream did not say (Podman). An image built on this engine and
 * pushed from it carries two digests for the same repository (its local
 * manifest's and the registry's), listed in no useful order; then the one that
 * was not there before the pull is the registry's, and if that does not settle
 * it the answer is null rather than a guess.
 */
export function chooseRepoDigest(
  after: readonly string[],
  before: readonly string[],
  ref: EngineImageRef,
): string | null {
  const candidates = after.filter((entry) => sameRepository(entry.split("@")[0] ?? "", ref));
  const fresh = candidates.filter((entry) => !before.includes(entry));
  const pick = candidates.length === 1 ? candidates[0] : fresh.length === 1 ? fresh[0] : undefined;
  return pick?.split("@")[1] ?? null;
}

/**
 * The registry digest a container created from `image` runs, from its image's
 * RepoDigests: the digest in the reference itself when it is pinned, else the
 * one entry for the same repository. Several different ones (Podman keeps its
 * local manifest's beside the registry's for an image built, pushed and pulled
 * on one engine) give null rather than a guess, as does none.
 */
export function registryDigestOf(repoDigests: readonly string[], image: string): string | null {
  let ref: EngineImageRef;
  try {
    ref = toEngineImageRef(image, "inspect", "engine");
  } catch {
    return null;
  }
  if (ref.digest) return ref.digest;
  const digests = new Set(
    repoDigests
      .filter((entry) => sameRepository(entry.split("@")[0] ?? "", ref))
      .map((entry) => entry.split("@")[1] ?? ""),
  );
  const [only] = digests;
  return digests.size === 1 && only && /^sha256:[a-f0-9]{64}$/.test(only) ? only : null;
}
