/**
 * A container's cgroup directory disappeared while we read it: both Docker and
 * Podman remove it as soon as the container exits, so this is an expected,
 * per-container outcome of a sweep rather than a failure of the reader.
 */
export class CgroupGoneError extends Error {
  override readonly name = "CgroupGoneError";
  constructor(readonly path: string) {
    super(`cgroup ${path} no longer exists`);
  }
}

/** The process we resolve a container's cgroup or network namespace from has exited. */
export class ProcessGoneError extends Error {
  override readonly name = "ProcessGoneError";
  constructor(readonly pid: number) {
    super(`process ${pid} no longer exists`);
  }
}

export function isGoneError(error: unknown): error is CgroupGoneError | ProcessGoneError {
  return error instanceof CgroupGoneError || error instanceof ProcessGoneError;
}

export function errnoCode(error: unknown): string | undefined {
  if (typeof error === "object" && error !== null && "code" in error && typeof error.code === "string") {
    return error.code;
  }
  return undefined;
}
