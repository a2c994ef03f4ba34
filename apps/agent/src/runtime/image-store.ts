/**
 * The image store: the part of the runtime contract (see driver.ts) that
 * holds images. The supervisor's image puller and the image operations talk
 * only to this.
 */

export interface PullProgress {
  status: string;
  id?: string;
  current?: number;
  total?: number;
}

export interface ImageSummary {
  id: string;
  tags: string[];
  digests: string[];
  sizeBytes: number;
  createdAt: string;
}

export interface RegistryAuth {
  username: string;
  password: string;
}

/** A pull or push: credentials for the registry, progress as it goes, and a way to give up. */
export interface RegistryTransferOptions {
  auth?: RegistryAuth;
  onProgress?: (p: PullProgress) => void;
  signal?: AbortSignal;
}

export interface ImageStore {
  imageExists(image: string): Promise<boolean>;
  /** Resolves with the registry's manifest digest, or null when the engine cannot tell which it is. */
  pullImage(image: string, opts?: RegistryTransferOptions): Promise<{ digest: string | null }>;
  listImages(): Promise<ImageSummary[]>;
  removeImage(image: string, opts?: { force?: boolean }): Promise<void>;
  /** Build from a tar context; each output line is passed to onOutput. */
  buildImage(
    context: NodeJS.ReadableStream | Buffer,
    opts: { tag: string; dockerfile?: string; onOutput?: (line: string) => void; signal?: AbortSignal },
  ): Promise<{ imageId: string }>;
  pushImage(image: string, opts?: RegistryTransferOptions): Promise<{ digest: string | null }>;
}
