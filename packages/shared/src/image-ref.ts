// Image references (`busybox`, `127.0.0.1:5000/fleet/busybox:1.36`,
// `repo@sha256:…`) parsed and normalized the way docker's
// distribution/reference does, so the central and the agents agree on what
// "the same image" is. Browser-safe; imports only zod.
import { z } from "zod";

export class ImageRefError extends Error {
  override name = "ImageRefError";
}

export interface TParsedImageRef {
  /** `docker.io` when the reference names no registry. */
  registry: string;
  /** Path inside the registry; single names on docker.io get `library/`. */
  repository: string;
  /** The tag as written, or null (no `latest` filled in here). */
  tag: string | null;
  /** `sha256:<hex>` as written, or null. */
  digest: string | null;
  /** Fully qualified: registry/repository, the tag (`latest` if neither tag nor digest) and the digest. */
  normalized: string;
}

export const DEFAULT_REGISTRY = "docker.io";
export const DEFAULT_TAG = "latest";
/** docker's limit on registry + repository. */
export const MAX_IMAGE_NAME_LENGTH = 255;
export const MAX_IMAGE_REF_LENGTH = 512;

const PATH_COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const DOMAIN_COMPONENT = "(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])";
const DOMAIN = new RegExp(
  `^(?:${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*|\\[[a-fA-F0-9:]+\\])(?::[0-9]+)?$`,
);
const TAG = /^[\w][\w.-]{0,127}$/;
const DIGEST_HEX_LENGTH: Record<string, number> = { sha256: 64, sha384: 96, sha512: 128 };

/** Checks a `sha256:<64 lowercase hex>` (or sha384/sha512) digest; returns why it is bad, or null. */
export function digestProblem(digest: string): string | null {
  const colon = digest.indexOf(":");
  const algorithm = colon === -1 ? "" : digest.slice(0, colon);
  const hex = digest.slice(colon + 1);
  const length = DIGEST_HEX_LENGTH[algorithm];
  if (length === undefined) return `digest "${digest}" must start with sha256:, sha384: or sha512:`;
  if (hex.length !== length || !/^[a-f0-9]+$/.test(hex)) {
    return `digest "${digest}" must be ${algorithm}: followed by ${length} lowercase hex digits`;
  }
  return null;
}

function splitRegistry(name: string): [registry: string, path: string] {
  const slash = name.indexOf("/");
  if (slash === -1) return [DEFAULT_REGISTRY, name];
  const first = name.slice(0, slash);
  // docker's rule: a first component is a registry only if it looks like a host.
  const isRegistry =
    first.includes(".") || first.includes(":") || first === "localhost" || first.toLowerCase() !== first;
  return isRegistry ? [first, name.slice(slash + 1)] : [DEFAULT_REGISTRY, name];
}

export function parseImageRef(input: string): TParsedImageRef {
  const fail = (reason: string) => new ImageRefError(`invalid image reference "${input}": ${reason}`);
  if (input === "") throw new ImageRefError("image reference is empty");
  if (input.length > MAX_IMAGE_REF_LENGTH) {
    throw new ImageRefError(`image reference is longer than ${MAX_IMAGE_REF_LENGTH} characters`);
  }
  if (input.trim() !== input) throw fail("it has leading or trailing whitespace");

  let rest = input;
  let digest: string | null = null;
  const at = rest.indexOf("@");
  if (at !== -1) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    const problem = digestProblem(digest);
    if (problem) throw fail(problem);
  }

  let tag: string | null = null;
  const colon = rest.lastIndexOf(":");
  if (colon > rest.lastIndexOf("/")) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG.test(tag)) {
      throw fail(`tag "${tag}" must be 1-128 letters, digits, "_", "." or "-", not starting with "." or "-"`);
    }
  }

  if (rest === "") throw fail("the repository name is missing");
  if (rest.length > MAX_IMAGE_NAME_LENGTH) {
    throw fail(`the repository name is longer than ${MAX_IMAGE_NAME_LENGTH} characters`);
  }
  let [registry, repository] = splitRegistry(rest);
  if (!DOMAIN.test(registry)) throw fail(`"${registry}" is not a valid registry host[:port]`);
  if (repository === "") throw fail("the repository name is missing");
  if (repository !== repository.toLowerCase()) throw fail("repository name must be lowercase");
  for (const component of repository.split("/")) {
    if (!PATH_COMPONENT.test(component)) {
      throw fail(
        `"${component}" is not a valid path component (lowercase letters and digits, separated by ".", "_", "__" or "-")`,
      );
    }
  }

  if (registry === "index.docker.io") registry = DEFAULT_REGISTRY;
  if (registry === DEFAULT_REGISTRY && !repository.includes("/")) repository = `library/${repository}`;
  const parts = { registry, repository, tag, digest };
  return { ...parts, normalized: formatImageRef(parts) };
}

type TImageRefParts = Pick<TParsedImageRef, "registry" | "repository" | "tag" | "digest">;

function withTagAndDigest(name: string, ref: TImageRefParts): string {
  const tag = ref.tag ?? (ref.digest === null ? DEFAULT_TAG : null);
  return `${name}${tag === null ? "" : `:${tag}`}${ref.digest === null ? "" : `@${ref.digest}`}`;
}

/** The fully qualified form: `docker.io/library/busybox:latest`. */
export function formatImageRef(ref: TImageRefParts): string {
  return withTagAndDigest(`${ref.registry}/${ref.repository}`, ref);
}

/** The short form docker prints: `busybox:latest`, `fleet/app:1`, `127.0.0.1:5000/x:y`. */
export function familiarImageRef(ref: TImageRefParts): string {
  let name = `${ref.registry}/${ref.repository}`;
  if (ref.registry === DEFAULT_REGISTRY) {
    name = ref.repository;
    const library = /^library\/([^/]+)$/.exec(name);
    if (library?.[1]) name = library[1];
  }
  return withTagAndDigest(name, ref);
}

/** Normalizes any accepted spelling, so `busybox` and `docker.io/library/busybox:latest` compare equal. */
export function normalizeImageRef(input: string): string {
  return parseImageRef(input).normalized;
}

/** An image reference as a person wrote it; validated by `parseImageRef`, kept as written. */
export const ZImageRef = z
  .string()
  .max(MAX_IMAGE_REF_LENGTH)
  .superRefine((value, ctx) => {
    if (value.length > MAX_IMAGE_REF_LENGTH) return; // `.max` has already said so
    try {
      parseImageRef(value);
    } catch (error) {
      ctx.addIssue({ code: "custom", message: error instanceof Error ? error.message : String(error) });
    }
  });
export type TImageRef = z.infer<typeof ZImageRef>;

export const ZDigest = z
  .string()
  .max(7 + 128)
  .superRefine((value, ctx) => {
    const problem = digestProblem(value);
    if (problem) ctx.addIssue({ code: "custom", message: problem });
  });
