/**
 * Password hashing with scrypt from node:crypto (no native add-on to build).
 * Stored as `scrypt$N$r$p$salt$hash` (salt and hash base64url) so the cost can
 * be raised later without invalidating existing hashes: verification reads
 * the parameters from the stored string, within bounds.
 */
import { randomBytes, type ScryptOptions, scrypt, timingSafeEqual } from "node:crypto";
import pLimit from "p-limit";
import { AppError } from "../../errors";

// N = 2^15, r = 8 takes about 32 MiB and ~50–100 ms per hash: slow for a
// guesser, fine for a sign-in.
const COST = 2 ** 15;
const BLOCK_SIZE = 8;
const PARALLELIZATION = 1;
const KEY_LENGTH = 32;
const SALT_LENGTH = 16;
// A stored hash could name a cost that exhausts memory; refuse beyond this.
const MAX_COST = 2 ** 20;

export const MIN_PASSWORD_LENGTH = 10;
export const MAX_PASSWORD_LENGTH = 1024;

// Each hash holds ~32 MiB and a libuv thread for ~100 ms. Anonymous callers
// can ask for one (sign-in), so at most this many run at once and a bounded
// queue waits; past it callers are told to come back rather than piling up
// memory and starving every other request of the thread pool.
export const CONCURRENT_HASHES = 2;
export const MAX_WAITING_HASHES = 16;
const hashingSlots = pLimit(CONCURRENT_HASHES);

function scryptAsync(
  password: string,
  salt: Buffer,
  keyLength: number,
  options: ScryptOptions,
): Promise<Buffer> {
  if (hashingSlots.pendingCount >= MAX_WAITING_HASHES) {
    return Promise.reject(
      new AppError("TOO_MANY_REQUESTS", "the server is busy checking passwords: try again in a few seconds"),
    );
  }
  return hashingSlots(() => scryptNow(password, salt, keyLength, options));
}

function scryptNow(
  password: string,
  salt: Buffer,
  keyLength: number,
  options: ScryptOptions,
): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scrypt(password.normalize("NFKC"), salt, keyLength, options, (error, key) =>
      error ? reject(error) : resolve(key),
    );
  });
}

function memoryFor(cost: number, blockSize: number): number {
  // scrypt needs 128·N·r bytes; Node's default maxmem (32 MiB) is exactly
  // that for our parameters and refuses them, so allow twice the need.
  return 2 * 128 * cost * blockSize;
}

export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(SALT_LENGTH);
  const key = await scryptAsync(password, salt, KEY_LENGTH, {
    N: COST,
    r: BLOCK_SIZE,
    p: PARALLELIZATION,
    maxmem: memoryFor(COST, BLOCK_SIZE),
  });
  return [
    "scrypt",
    COST,
    BLOCK_SIZE,
    PARALLELIZATION,
    salt.toString("base64url"),
    key.toString("base64url"),
  ].join("$");
}

interface ParsedHash {
  cost: number;
  blockSize: number;
  parallelization: number;
  salt: Buffer;
  key: Buffer;
}

function parseHash(encoded: string): ParsedHash | null {
  const parts = encoded.split("$");
  if (parts.length !== 6 || parts[0] !== "scrypt") return null;
  const [cost, blockSize, parallelization] = parts.slice(1, 4).map(Number) as [number, number, number];
  const salt = Buffer.from(parts[4] ?? "", "base64url");
  const key = Buffer.from(parts[5] ?? "", "base64url");
  const isPowerOfTwo = Number.isInteger(cost) && cost > 1 && (cost & (cost - 1)) === 0;
  if (!isPowerOfTwo || cost > MAX_COST) return null;
  if (!Number.isInteger(blockSize) || blockSize < 1 || blockSize > 32) return null;
  if (!Number.isInteger(parallelization) || parallelization < 1 || parallelization > 16) return null;
  if (salt.length < 8 || key.length < 16) return null;
  return { cost, blockSize, parallelization, salt, key };
}

/** Whether `password` matches `encoded`; false (never a throw) for a malformed hash. */
export async function verifyPassword(password: string, encoded: string): Promise<boolean> {
  const parsed = parseHash(encoded);
  if (!parsed) return false;
  const key = await scryptAsync(password, parsed.salt, parsed.key.length, {
    N: parsed.cost,
    r: parsed.blockSize,
    p: parsed.parallelization,
    maxmem: memoryFor(parsed.cost, parsed.blockSize),
  });
  return timingSafeEqual(key, parsed.key);
}

/** A password for a generated account: 24 characters, 144 bits. */
export function generatePassword(): string {
  return randomBytes(18).toString("base64url");
}

// Checked against when an email is unknown, so a sign-in takes as long for a
// missing account as for a wrong password and does not reveal which it was.
let decoyHash: Promise<string> | undefined;
export function decoyPasswordHash(): Promise<string> {
  decoyHash ??= hashPassword(generatePassword()).catch((error: unknown) => {
    decoyHash = undefined;
    throw error;
  });
  return decoyHash;
}
