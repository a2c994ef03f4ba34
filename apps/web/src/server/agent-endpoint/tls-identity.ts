/**
 * The key and certificate the agent port serves. With FLEET_TLS_CERT and
 * FLEET_TLS_KEY, those (hosts validate them through a CA, as before).
 * Without, the central's own EC P-256 key and a self-signed certificate in
 * FLEET_DATA_DIR/tls, made at the first start and reused afterwards, because
 * every host pins that key: a new key locks out every installed agent.
 *
 * May import: node built-ins, @fleet/shared/server-pin, ./self-signed-certificate.
 */
import { createPrivateKey, createPublicKey, generateKeyPairSync, X509Certificate } from "node:crypto";
import {
  chmodSync,
  existsSync,
  mkdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { join, resolve } from "node:path";
import { serverPinOfCertificate } from "@fleet/shared/server-pin";
import type { TEnv } from "../env";
import type { Logger } from "../logger";
import { selfSignedCertificate } from "./self-signed-certificate";

export interface TAgentTlsIdentity {
  key: string;
  cert: string;
  /** `sha256//…` of the served public key. */
  pin: string;
  /** True for the self-signed certificate: hosts must pin, no CA vouches for it. */
  pinned: boolean;
  /** Where the key lives (FLEET_TLS_KEY or FLEET_DATA_DIR/tls/key.pem). */
  keyPath: string;
}

export const TLS_DIR_NAME = "tls";

export function loadAgentTlsIdentity(options: {
  env: Pick<TEnv, "FLEET_TLS_CERT" | "FLEET_TLS_KEY" | "FLEET_DATA_DIR">;
  log: Logger;
  now?: Date;
}): TAgentTlsIdentity {
  const { env, log } = options;
  if (env.FLEET_TLS_CERT && env.FLEET_TLS_KEY) {
    const cert = readFileSync(env.FLEET_TLS_CERT, "utf8");
    const key = readFileSync(env.FLEET_TLS_KEY, "utf8");
    return {
      key,
      cert,
      pin: serverPinOfCertificate(new X509Certificate(cert)),
      pinned: false,
      keyPath: env.FLEET_TLS_KEY,
    };
  }
  const dir = resolve(env.FLEET_DATA_DIR, TLS_DIR_NAME);
  const keyPath = join(dir, "key.pem");
  const certPath = join(dir, "cert.pem");
  mkdirSync(dir, { recursive: true, mode: 0o700 });

  let key: string;
  if (existsSync(keyPath)) {
    key = readFileSync(keyPath, "utf8");
    const mode = statSync(keyPath).mode & 0o777;
    if (mode & 0o077) {
      // Whoever reads it can pose as this central to every host.
      chmodSync(keyPath, 0o600);
      log.warn(
        { keyPath, mode: mode.toString(8) },
        "the agent port's private key was readable by others; now 0600",
      );
    }
  } else {
    if (existsSync(certPath)) {
      log.warn(
        { keyPath },
        "the agent port's private key is gone: making a new one. Hosts pinned to the old key refuse this central until they are installed again with the new join command",
      );
    }
    const { privateKey } = generateKeyPairSync("ec", { namedCurve: "prime256v1" });
    key = privateKey.export({ type: "pkcs8", format: "pem" }).toString();
    writeAtomically(keyPath, key, 0o600);
    rmSync(certPath, { force: true });
    log.info({ keyPath }, "made the agent port's key (hosts pin it)");
  }
  const privateKey = createPrivateKey(key);

  let cert = existsSync(certPath) ? readFileSync(certPath, "utf8") : null;
  if (cert !== null && !certificateFits(cert, privateKey)) cert = null;
  if (cert === null) {
    // Same key, so the pin stays and installed hosts are unaffected.
    cert = selfSignedCertificate({
      privateKey,
      publicKey: createPublicKey(privateKey),
      commonName: "Fleet central (self-signed; hosts pin its key)",
      now: options.now ?? new Date(),
    });
    writeAtomically(certPath, cert, 0o644);
  }
  return { key, cert, pin: serverPinOfCertificate(new X509Certificate(cert)), pinned: true, keyPath };
}

function certificateFits(pem: string, privateKey: ReturnType<typeof createPrivateKey>): boolean {
  try {
    return new X509Certificate(pem).checkPrivateKey(privateKey);
  } catch {
    return false;
  }
}

function writeAtomically(path: string, content: string, mode: number): void {
  const temp = `${path}.${process.pid}.tmp`;
  rmSync(temp, { force: true });
  writeFileSync(temp, content, { mode, flag: "wx" });
  renameSync(temp, path);
}
