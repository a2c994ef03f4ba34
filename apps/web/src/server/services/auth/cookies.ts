/**
 * Reading the Cookie header and writing Set-Cookie values (RFC 6265), for the
 * session cookie. Small enough not to need a dependency.
 */

// RFC 6265 cookie-name is an RFC 7230 token.
const COOKIE_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
// cookie-octet: visible ASCII except `"`, `,`, `;` and `\`.
const COOKIE_VALUE = /^[\x21\x23-\x2B\x2D-\x3A\x3C-\x5B\x5D-\x7E]*$/;

/**
 * The cookies of a Cookie header. A browser may send a name twice (cookies of
 * different paths); the first one is the most specific and wins.
 */
export function parseCookieHeader(header: string | readonly string[] | undefined): Map<string, string> {
  const cookies = new Map<string, string>();
  if (header === undefined) return cookies;
  const text = typeof header === "string" ? header : header.join("; ");
  for (const pair of text.split(";")) {
    const equals = pair.indexOf("=");
    if (equals === -1) continue;
    const name = pair.slice(0, equals).trim();
    let value = pair.slice(equals + 1).trim();
    if (!COOKIE_NAME.test(name) || cookies.has(name)) continue;
    if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) value = value.slice(1, -1);
    try {
      cookies.set(name, decodeURIComponent(value));
    } catch {
      // A malformed %-escape: keep the raw text rather than failing the request.
      cookies.set(name, value);
    }
  }
  return cookies;
}

export interface CookieOptions {
  /** Seconds until the browser drops it; 0 deletes it now. */
  maxAgeSeconds?: number;
  path?: string;
  httpOnly?: boolean;
  secure?: boolean;
  sameSite?: "Strict" | "Lax" | "None";
}

export function serializeCookie(name: string, value: string, options: CookieOptions = {}): string {
  if (!COOKIE_NAME.test(name)) throw new Error(`invalid cookie name ${JSON.stringify(name)}`);
  if (!COOKIE_VALUE.test(value))
    throw new Error(`cookie ${name}: value has characters a cookie cannot carry`);
  const parts = [`${name}=${value}`];
  if (options.maxAgeSeconds !== undefined) {
    const seconds = Math.max(0, Math.floor(options.maxAgeSeconds));
    parts.push(`Max-Age=${seconds}`);
    // Expires as well, for clients that ignore Max-Age.
    parts.push(`Expires=${new Date(Date.now() + seconds * 1000).toUTCString()}`);
  }
  parts.push(`Path=${options.path ?? "/"}`);
  if (options.httpOnly ?? true) parts.push("HttpOnly");
  if (options.secure) parts.push("Secure");
  parts.push(`SameSite=${options.sameSite ?? "Lax"}`);
  return parts.join("; ");
}
