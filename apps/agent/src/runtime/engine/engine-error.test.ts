import { describe, expect, it } from "vitest";
import { isDriverError } from "../driver";
import { EngineError, toEngineError } from "./engine-error";

/** What dockerode rejects with: its own message around the engine's JSON answer. */
function dockerodeError(statusCode: number, reason: string, message: string) {
  return Object.assign(new Error(`(HTTP code ${statusCode}) ${reason} - ${message} `), {
    statusCode,
    reason,
    json: { message },
  });
}

describe("toEngineError", () => {
  it("keeps the engine's message and status, not dockerode's wrapper", () => {
    const err = toEngineError(dockerodeError(404, "no such container", "No such container: abc"), "stop abc");
    expect(err).toBeInstanceOf(EngineError);
    expect(err.message).toBe("stop abc failed: No such container: abc");
    expect(err.statusCode).toBe(404);
    expect(err.code).toBe("not-found");
    expect(err.cause).toBeUndefined();
  });

  it("recognises Docker's 409 and Podman's 500 name conflicts", () => {
    const docker = dockerodeError(
      409,
      "unexpected",
      'Conflict. The container name "/dup" is already in use by container "b5129cc64b5d". You have to remove (or rename) that container to be able to reuse that name.',
    );
    const podman = dockerodeError(
      500,
      "server error",
      'container create: creating container storage: the container name "dup" is already in use by 0d8549de3969. You have to remove that container to be able to reuse that name: that name is already in use',
    );
    expect(isDriverError(toEngineError(docker, "create dup"), "name-conflict")).toBe(true);
    expect(isDriverError(toEngineError(podman, "create dup"), "name-conflict")).toBe(true);
  });

  it("maps a missing image, an image conflict and an unreachable socket", () => {
    const missing = dockerodeError(404, "no such container", "No such image: x:1");
    expect(toEngineError(missing, "create c", { notFound: "image-not-found" }).code).toBe("image-not-found");
    const inUse = dockerodeError(409, "conflict", "conflict: unable to remove repository reference");
    expect(toEngineError(inUse, "remove image x").code).toBe("conflict");
    const refused = Object.assign(new Error("connect ECONNREFUSED /x.sock"), { code: "ECONNREFUSED" });
    expect(toEngineError(refused, "fingerprint")).toMatchObject({
      code: "unavailable",
      message: "fingerprint failed: connect ECONNREFUSED /x.sock",
    });
  });
});
