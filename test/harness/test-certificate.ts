// A throwaway self-signed certificate for 127.0.0.1 (EC P-256, one day),
// made with openssl the way an administrator would for FLEET_TLS_CERT /
// FLEET_TLS_KEY. The files live in a new temporary directory; `remove()`
// deletes it.
import { execFileSync } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface TestCertificate {
  certPath: string;
  keyPath: string;
  remove(): Promise<void>;
}

export async function makeTestCertificate(prefix = "fleet-test-cert-"): Promise<TestCertificate> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  const certPath = join(dir, "cert.pem");
  const keyPath = join(dir, "key.pem");
  execFileSync(
    "openssl",
    [
      ...["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"],
      ...["-keyout", keyPath, "-out", certPath, "-days", "1", "-subj", "/CN=127.0.0.1"],
      ...["-addext", "subjectAltName=IP:127.0.0.1"],
    ],
    { stdio: "pipe" },
  );
  return { certPath, keyPath, remove: () => rm(dir, { recursive: true, force: true }) };
}
