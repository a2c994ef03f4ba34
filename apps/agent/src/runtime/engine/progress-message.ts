/**
 * Reads the engine's progress messages (pull, push, build). The one rule that
 * matters: a failure can arrive as a message inside a stream whose HTTP status
 * was 200 (always on Podman, for push and build failures on Docker too), so
 * every message is checked for `error`/`errorDetail`.
 */
import { z } from "zod";
import type { PullProgress } from "../image-store";

export const ZProgressMessage = z
  .object({
    status: z.string(),
    id: z.string(),
    progressDetail: z.object({ current: z.number(), total: z.number() }).partial().loose(),
    error: z.string(),
    errorDetail: z.object({ message: z.string(), code: z.number() }).partial().loose(),
    stream: z.string(),
    aux: z.object({ ID: z.string(), Digest: z.string(), Tag: z.string() }).partial().loose(),
  })
  .partial()
  .loose();
export type TProgressMessage = z.infer<typeof ZProgressMessage>;

export function parseProgressMessage(raw: unknown): TProgressMessage {
  const parsed = ZProgressMessage.safeParse(raw);
  return parsed.success ? parsed.data : {};
}

/** The failure a message reports, or null. Podman ends its messages with "\n". */
export function progressError(msg: TProgressMessage): string | null {
  const text = msg.errorDetail?.message ?? msg.error;
  if (text === undefined) return null;
  return text.trim() || "unknown error";
}

export function toPullProgress(msg: TProgressMessage): PullProgress | null {
  if (msg.status === undefined) return null;
  const progress: PullProgress = { status: msg.status };
  if (msg.id !== undefined) progress.id = msg.id;
  if (msg.progressDetail?.current !== undefined) progress.current = msg.progressDetail.current;
  if (msg.progressDetail?.total !== undefined) progress.total = msg.progressDetail.total;
  return progress;
}

const DIGEST_IN_STATUS = /digest: (sha256:[0-9a-f]{64})/;

/**
 * The manifest digest a push reports. Docker sends it as `aux.Digest`; Podman 4
 * sends no aux message, only the status line `latest: digest: sha256:… size: 581`.
 */
export function pushedDigest(msg: TProgressMessage): string | null {
  if (msg.aux?.Digest) return msg.aux.Digest;
  const match = msg.status === undefined ? null : DIGEST_IN_STATUS.exec(msg.status);
  return match?.[1] ?? null;
}

const DIGEST_STATUS = /^Digest: (sha256:[0-9a-f]{64})$/;

/** The manifest digest a pull reports: Docker sends `Digest: sha256:…`; Podman 4 sends nothing of the kind. */
export function pulledDigest(msg: TProgressMessage): string | null {
  const match = msg.status === undefined ? null : DIGEST_STATUS.exec(msg.status);
  return match?.[1] ?? null;
}

/** The image id a build reports (`aux.ID`, sent by both engines). */
export function builtImageId(msg: TProgressMessage): string | null {
  return msg.aux?.ID ?? null;
}

/**
 * Collects a build's `stream` text into whole lines: Docker sends "Step 1/4 : FROM x"
 * and its "\n" as two messages.
 */
export class BuildOutputLines {
  private partial = "";

  push(msg: TProgressMessage): string[] {
    let text = msg.stream ?? "";
    if (!text && msg.status !== undefined) text = `${msg.id ? `${msg.id}: ` : ""}${msg.status}\n`;
    if (!text) return [];
    const parts = (this.partial + text).split(/\r?\n/);
    this.partial = parts.pop() ?? "";
    return parts.filter((line) => line.trim() !== "");
  }

  end(): string[] {
    const rest = this.partial.trim();
    this.partial = "";
    return rest ? [rest] : [];
  }
}
