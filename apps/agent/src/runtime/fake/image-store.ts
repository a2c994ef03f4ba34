/**
 * The fake ImageStore, over the in-memory engine (fake-engine.ts): pulls and
 * builds add the image, a pull records a registry digest for it, and an image
 * a container uses is removed only with `force`, as on the engines.
 */
import { DriverError } from "../driver";
import type { ImageStore, ImageSummary, RegistryTransferOptions } from "../image-store";
import { type FakeEngine, shortHash } from "./fake-engine";

export class FakeImageStore implements ImageStore {
  constructor(private readonly engine: FakeEngine) {}

  async imageExists(image: string): Promise<boolean> {
    this.engine.serve("imageExists", image, [image]);
    return this.engine.images.has(image);
  }

  async pullImage(image: string, opts?: RegistryTransferOptions): Promise<{ digest: string | null }> {
    const { engine } = this;
    engine.record("pullImage", image, [image, { auth: opts?.auth }]);
    opts?.signal?.throwIfAborted();
    engine.throwIfArmed("pullImage");
    const failure = engine.takePullFailure(image);
    if (failure !== undefined) throw new DriverError("pull-failed", `pull ${image} failed: ${failure}`);
    opts?.onProgress?.({ status: `Pulling from ${image}` });
    opts?.onProgress?.({ status: "Download complete", id: "layer0", current: 1, total: 1 });
    engine.images.add(image);
    const digest = `sha256:${shortHash(`digest:${image}`)}`;
    engine.imageDigests.set(image, digest);
    return { digest };
  }

  async listImages(): Promise<ImageSummary[]> {
    this.engine.serve("listImages", null, []);
    return [...this.engine.images].map((image) => ({
      id: this.engine.imageIdOf(image),
      tags: [image],
      digests: [],
      sizeBytes: 1024,
      createdAt: new Date(0).toISOString(),
    }));
  }

  async removeImage(image: string, opts?: { force?: boolean }): Promise<void> {
    const { engine } = this;
    engine.serve("removeImage", image, [image, opts]);
    if (!engine.images.has(image))
      throw new DriverError("image-not-found", `No such image: ${image}`, { statusCode: 404 });
    const user = [...engine.containers.values()].find((c) => c.image === image);
    if (user && !opts?.force) {
      throw new DriverError(
        "conflict",
        `unable to remove image ${image}: it is in use by container ${user.engineId}`,
        { statusCode: 409 },
      );
    }
    engine.images.delete(image);
  }

  async buildImage(
    context: NodeJS.ReadableStream | Buffer,
    opts: { tag: string; dockerfile?: string; onOutput?: (line: string) => void; signal?: AbortSignal },
  ): Promise<{ imageId: string }> {
    this.engine.record("buildImage", opts.tag, [opts.tag, { dockerfile: opts.dockerfile }]);
    opts.signal?.throwIfAborted();
    this.engine.throwIfArmed("buildImage");
    if (!Buffer.isBuffer(context)) for await (const _ of context) void _;
    opts.onOutput?.(`Successfully tagged ${opts.tag}`);
    this.engine.images.add(opts.tag);
    return { imageId: this.engine.imageIdOf(opts.tag) };
  }

  async pushImage(image: string, opts?: RegistryTransferOptions): Promise<{ digest: string | null }> {
    this.engine.record("pushImage", image, [image, { auth: opts?.auth }]);
    opts?.signal?.throwIfAborted();
    this.engine.throwIfArmed("pushImage");
    if (!this.engine.images.has(image))
      throw new DriverError("image-not-found", `No such image: ${image}`, { statusCode: 404 });
    opts?.onProgress?.({ status: "Pushed", id: "layer0" });
    return { digest: `sha256:${shortHash(`digest:${image}`)}` };
  }
}
