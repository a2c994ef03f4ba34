/**
 * What the engine driver's three parts share on their one dockerode client:
 * streaming requests (pull, push, build, events, logs) and reading an image's
 * RepoDigests (a pull's digest, a container's image digest).
 */
import type { IncomingMessage } from "node:http";
import type DockerModem from "docker-modem";
import type Docker from "dockerode";
import type { DriverErrorCode } from "../driver";
import { statusCodeOf, toEngineError } from "./engine-error";

/** Opens a streaming request; HTTP errors before the stream are wrapped with `code`. */
export function dialStream(
  docker: Docker,
  dial: Omit<DockerModem.DialOptions, "isStream" | "statusCodes" | "abortSignal">,
  action: string,
  codes: { code: DriverErrorCode; notFound?: DriverErrorCode },
  signal: AbortSignal | undefined,
): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    docker.modem.dial(
      {
        ...dial,
        isStream: true,
        statusCodes: { 200: true },
        ...(signal ? { abortSignal: signal } : {}),
      },
      (err, result) => {
        if (signal?.aborted) return reject(signal.reason);
        if (err) return reject(toEngineError(err, action, codes));
        const stream = result as IncomingMessage;
        if (signal) {
          // The request's own signal stops at the response headers; the body must stop on abort too.
          const onAbort = () => stream.destroy();
          signal.addEventListener("abort", onAbort, { once: true });
          stream.once("close", () => signal.removeEventListener("abort", onAbort));
        }
        resolve(stream);
      },
    );
  });
}

/** RepoDigests of a local image, or null when there is no such image. */
export async function repoDigestsOf(docker: Docker, image: string): Promise<string[] | null> {
  try {
    return (await docker.getImage(image).inspect()).RepoDigests ?? [];
  } catch (err) {
    if (statusCodeOf(err) === 404) return null;
    throw toEngineError(err, `inspect image ${image}`);
  }
}
