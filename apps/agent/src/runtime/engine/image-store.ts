/**
 * The ImageStore for the Docker Engine API: pull, build and push read the
 * engine's progress stream, where both engines put their errors after an HTTP
 * 200 and where their digests differ (README.md).
 */
import type { IncomingMessage } from "node:http";
import type DockerModem from "docker-modem";
import type Docker from "dockerode";
import type { DriverErrorCode } from "../driver";
import type { ImageStore, ImageSummary, RegistryAuth, RegistryTransferOptions } from "../image-store";
import { dialStream, repoDigestsOf } from "./engine-client";
import { EngineError, statusCodeOf, toEngineError } from "./engine-error";
import { chooseRepoDigest, toEngineImageRef } from "./image-ref";
import { JsonObjectSplitter } from "./json-stream";
import {
  BuildOutputLines,
  builtImageId,
  parseProgressMessage,
  progressError,
  pulledDigest,
  pushedDigest,
  type TProgressMessage,
  toPullProgress,
} from "./progress-message";

/** Base64 of "{}": Docker refuses a push without an X-Registry-Auth header, even an empty one. */
const EMPTY_REGISTRY_AUTH = "e30=";

export class EngineImageStore implements ImageStore {
  constructor(private readonly docker: Docker) {}

  async imageExists(image: string): Promise<boolean> {
    try {
      await this.docker.getImage(image).inspect();
      return true;
    } catch (err) {
      if (statusCodeOf(err) === 404) return false;
      throw toEngineError(err, `inspect image ${image}`);
    }
  }

  async pullImage(image: string, opts: RegistryTransferOptions = {}): Promise<{ digest: string | null }> {
    const action = `pull ${image}`;
    const ref = toEngineImageRef(image, action, "pull-failed");
    const before = await repoDigestsOf(this.docker, image);
    const stream = await dialStream(
      this.docker,
      {
        path: "/images/create?",
        method: "POST",
        options: { fromImage: ref.repository, tag: ref.version },
        ...authOptions(opts.auth, ref.registry, false),
      },
      action,
      // Docker answers a missing image with 404 before the stream; that is a failed pull, not a missing container.
      { code: "pull-failed", notFound: "pull-failed" },
      opts.signal,
    );
    let digest: string | null = null;
    await consumeProgress(stream, action, "pull-failed", opts.signal, (msg) => {
      digest = pulledDigest(msg) ?? digest;
      const progress = toPullProgress(msg);
      if (progress) opts.onProgress?.(progress);
    });
    if (ref.digest) return { digest: ref.digest };
    return {
      digest: digest ?? chooseRepoDigest((await repoDigestsOf(this.docker, image)) ?? [], before ?? [], ref),
    };
  }

  async listImages(): Promise<ImageSummary[]> {
    try {
      const images = await this.docker.listImages();
      return images.map((img) => ({
        id: img.Id,
        // Podman reports untagged images with null lists; Docker with ["<none>:<none>"].
        tags: (img.RepoTags ?? []).filter((t) => t !== "<none>:<none>"),
        digests: (img.RepoDigests ?? []).filter((d) => !d.startsWith("<none>")),
        sizeBytes: img.Size,
        createdAt: new Date(img.Created * 1000).toISOString(),
      }));
    } catch (err) {
      throw toEngineError(err, "list images");
    }
  }

  async removeImage(image: string, opts: { force?: boolean } = {}): Promise<void> {
    try {
      await this.docker.getImage(image).remove({ force: opts.force ?? false });
    } catch (err) {
      throw toEngineError(err, `remove image ${image}`, { notFound: "image-not-found" });
    }
  }

  async buildImage(
    context: NodeJS.ReadableStream | Buffer,
    opts: { tag: string; dockerfile?: string; onOutput?: (line: string) => void; signal?: AbortSignal },
  ): Promise<{ imageId: string }> {
    const action = `build ${opts.tag}`;
    const stream = await dialStream(
      this.docker,
      {
        path: "/build?",
        method: "POST",
        options: { t: opts.tag, dockerfile: opts.dockerfile ?? "Dockerfile", rm: true, forcerm: true },
        file: context,
        headers: { "Content-Type": "application/x-tar" },
      },
      action,
      { code: "build-failed" },
      opts.signal,
    );
    const lines = new BuildOutputLines();
    let imageId: string | null = null;
    await consumeProgress(stream, action, "build-failed", opts.signal, (msg) => {
      imageId = builtImageId(msg) ?? imageId;
      for (const line of lines.push(msg)) opts.onOutput?.(line);
    });
    for (const line of lines.end()) opts.onOutput?.(line);
    if (imageId) return { imageId };
    try {
      const info = await this.docker.getImage(opts.tag).inspect();
      return { imageId: info.Id };
    } catch (err) {
      throw toEngineError(err, action, { code: "build-failed" });
    }
  }

  async pushImage(image: string, opts: RegistryTransferOptions = {}): Promise<{ digest: string | null }> {
    const action = `push ${image}`;
    const ref = toEngineImageRef(image, action, "push-failed");
    const stream = await dialStream(
      this.docker,
      {
        path: `/images/${ref.repository}/push?`,
        method: "POST",
        options: { tag: ref.tag ?? "latest" },
        ...authOptions(opts.auth, ref.registry, true),
      },
      action,
      { code: "push-failed", notFound: "image-not-found" },
      opts.signal,
    );
    let digest: string | null = null;
    await consumeProgress(stream, action, "push-failed", opts.signal, (msg) => {
      digest = pushedDigest(msg) ?? digest;
      const progress = toPullProgress(msg);
      if (progress) opts.onProgress?.(progress);
    });
    return { digest };
  }
}

function authOptions(
  auth: RegistryAuth | undefined,
  registry: string | null,
  headerRequired: boolean,
): Pick<DockerModem.DialOptions, "authconfig" | "headers"> {
  if (auth) {
    return {
      authconfig: {
        username: auth.username,
        password: auth.password,
        serveraddress: registry ?? "docker.io",
      },
    };
  }
  return headerRequired ? { headers: { "X-Registry-Auth": EMPTY_REGISTRY_AUTH } } : {};
}

/** Reads a progress stream to its end; an error message inside it rejects (HTTP status was 200). */
async function consumeProgress(
  stream: IncomingMessage,
  action: string,
  code: DriverErrorCode,
  signal: AbortSignal | undefined,
  onMessage: (msg: TProgressMessage) => void,
): Promise<void> {
  const splitter = new JsonObjectSplitter();
  try {
    for await (const chunk of stream) {
      for (const raw of splitter.push(chunk as Buffer)) {
        const msg = parseProgressMessage(raw);
        const error = progressError(msg);
        if (error !== null) throw new EngineError(code, `${action} failed: ${error}`);
        onMessage(msg);
      }
    }
  } catch (err) {
    if (signal?.aborted) throw signal.reason;
    throw toEngineError(err, action, { code });
  } finally {
    stream.destroy();
  }
  if (signal?.aborted) throw signal.reason;
}
