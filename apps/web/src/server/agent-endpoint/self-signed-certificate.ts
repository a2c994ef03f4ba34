/**
 * A self-signed X.509 certificate for a key, written in DER by hand so the
 * central needs neither an npm package nor the openssl command. Nobody
 * validates it through a CA: hosts pin its public key (`@fleet/shared/server-pin`),
 * so it only has to be a certificate OpenSSL, Node and curl accept.
 *
 * May import: node:crypto.
 */
import { type KeyObject, randomBytes, sign } from "node:crypto";

function length(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n]);
  const bytes: number[] = [];
  for (let rest = n; rest > 0; rest = Math.floor(rest / 256)) bytes.unshift(rest % 256);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

function tlv(tag: number, ...content: Buffer[]): Buffer {
  const body = Buffer.concat(content);
  return Buffer.concat([Buffer.from([tag]), length(body.length), body]);
}

const sequence = (...parts: Buffer[]) => tlv(0x30, ...parts);
const set = (...parts: Buffer[]) => tlv(0x31, ...parts);
const explicit = (n: number, ...parts: Buffer[]) => tlv(0xa0 + n, ...parts);

function unsignedInteger(bytes: Buffer): Buffer {
  let start = 0;
  while (start < bytes.length - 1 && bytes[start] === 0) start++;
  const trimmed = bytes.subarray(start);
  // A set top bit would read as negative.
  return tlv(0x02, (trimmed[0] ?? 0) & 0x80 ? Buffer.concat([Buffer.from([0]), trimmed]) : trimmed);
}

function objectId(dotted: string): Buffer {
  const [first = 0, second = 0, ...rest] = dotted.split(".").map(Number);
  const bytes = [first * 40 + second];
  for (const arc of rest) {
    const groups = [arc & 0x7f];
    for (let value = Math.floor(arc / 128); value > 0; value = Math.floor(value / 128)) {
      groups.unshift(0x80 | (value & 0x7f));
    }
    bytes.push(...groups);
  }
  return tlv(0x06, Buffer.from(bytes));
}

const utf8String = (text: string) => tlv(0x0c, Buffer.from(text, "utf8"));

// RFC 5280 4.1.2.5: UTCTime through 2049, GeneralizedTime from 2050.
function time(date: Date): Buffer {
  const iso = date.toISOString().replace(/[-:T]/g, "").slice(0, 14);
  return date.getUTCFullYear() < 2050
    ? tlv(0x17, Buffer.from(`${iso.slice(2)}Z`))
    : tlv(0x18, Buffer.from(`${iso}Z`));
}

const OID = {
  commonName: "2.5.4.3",
  ecdsaWithSha256: "1.2.840.10045.4.3.2",
  basicConstraints: "2.5.29.19",
  keyUsage: "2.5.29.15",
  extKeyUsage: "2.5.29.37",
  serverAuth: "1.3.6.1.5.5.7.3.1",
};

/** RFC 5280's "no well-defined expiration date": the pin, not the date, is what hosts check. */
const NO_EXPIRY = new Date(Date.UTC(9999, 11, 31, 23, 59, 59));

/** PEM of a certificate for `publicKey`, signed with `privateKey` (an EC key). */
export function selfSignedCertificate(options: {
  privateKey: KeyObject;
  publicKey: KeyObject;
  commonName: string;
  now: Date;
}): string {
  const { privateKey, publicKey } = options;
  if (privateKey.asymmetricKeyType !== "ec") {
    throw new Error(`cannot self-sign with a ${privateKey.asymmetricKeyType} key (EC only)`);
  }
  // ECDSA's AlgorithmIdentifier has no parameters.
  const algorithm = sequence(objectId(OID.ecdsaWithSha256));
  const name = sequence(set(sequence(objectId(OID.commonName), utf8String(options.commonName))));
  const serial = randomBytes(16);
  serial[0] = (serial[0] ?? 0) & 0x7f;
  const notBefore = new Date(options.now.getTime() - 24 * 60 * 60_000);
  const critical = Buffer.from([0x01, 0x01, 0xff]);
  const extensions = sequence(
    // Not a CA: it cannot sign anything else.
    sequence(objectId(OID.basicConstraints), critical, tlv(0x04, sequence())),
    // digitalSignature (bit 0) only: 7 unused bits.
    sequence(objectId(OID.keyUsage), critical, tlv(0x04, tlv(0x03, Buffer.from([0x07, 0x80])))),
    sequence(objectId(OID.extKeyUsage), tlv(0x04, sequence(objectId(OID.serverAuth)))),
  );
  const tbs = sequence(
    explicit(0, tlv(0x02, Buffer.from([2]))),
    unsignedInteger(serial),
    algorithm,
    name,
    sequence(time(notBefore), time(NO_EXPIRY)),
    name,
    publicKey.export({ type: "spki", format: "der" }),
    explicit(3, extensions),
  );
  const signature = sign("sha256", tbs, privateKey);
  const der = sequence(tbs, algorithm, tlv(0x03, Buffer.from([0]), signature));
  const lines = der.toString("base64").match(/.{1,64}/g) ?? [];
  return `-----BEGIN CERTIFICATE-----\n${lines.join("\n")}\n-----END CERTIFICATE-----\n`;
}
