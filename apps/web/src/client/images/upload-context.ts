// Sends a build context to `POST /api/uploads` (tRPC bodies are capped at
// 1 MiB; contexts are not). The session cookie authenticates it; the answer's
// `uploadId` is what image.build takes, once.

export const UPLOADS_URL = "/api/uploads";

export async function uploadContext(bytes: Uint8Array, signal?: AbortSignal): Promise<string> {
  const response = await fetch(UPLOADS_URL, {
    method: "POST",
    body: new Blob([bytes as Uint8Array<ArrayBuffer>], { type: "application/x-tar" }),
    headers: { "content-type": "application/x-tar" },
    credentials: "same-origin",
    ...(signal ? { signal } : {}),
  });
  const answer = (await response.json().catch(() => null)) as {
    uploadId?: string;
    error?: { message?: string };
  } | null;
  if (!response.ok || !answer?.uploadId) {
    throw new Error(answer?.error?.message ?? `the upload failed (HTTP ${response.status})`);
  }
  return answer.uploadId;
}
