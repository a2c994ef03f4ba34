/**
 * How an agent recognises its central without a certificate authority: the
 * SHA-256 of the central's public key (the DER SubjectPublicKeyInfo),
 * base64, written as curl's `--pinnedpubkey` takes it: `sha256//<base64>`.
 * kubeadm's discovery hash pins a key the same way. The same string goes on
 * the install line (for curl) and to the agent (`--server-pin`).
 *
 * Node-only (node:crypto); the dashboard never imports it.
 * May import: node:crypto, zod.
 */
import { createHash, type X509Certificate } from "node:crypto";
import { z } from "zod";

// 32 bytes of base64 are 43 characters and one '='.
export const SERVER_PIN_PATTERN = /^sha256\/\/[A-Za-z0-9+/]{43}=$/;

export const ZServerPin = z.string().trim().regex(SERVER_PIN_PATTERN, {
  error: "must be sha256// and the base64 SHA-256 of the central's public key (as the join command shows it)",
});

export function serverPinOfPublicKey(spkiDer: Uint8Array): string {
  return `sha256//${createHash("sha256").update(spkiDer).digest("base64")}`;
}

export function serverPinOfCertificate(certificate: X509Certificate): string {
  return serverPinOfPublicKey(certificate.publicKey.export({ type: "spki", format: "der" }));
}
