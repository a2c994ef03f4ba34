// A build context as a tar archive, made in memory from a directory, as
// `docker build PATH` sends it: regular files, directories and symlinks,
// paths relative to PATH, minus what `.dockerignore` leaves out.
import { lstat, readdir, readFile, readlink } from "node:fs/promises";
import { join, relative, sep } from "node:path";
import { pack } from "tar-stream";
import { CliError, EXIT } from "./cli-error";

function escapeRegExp(text: string): string {
  return text.replace(/[.+^${}()|[\]\\]/g, "\\$&");
}

/** One `.dockerignore` pattern (`*` within a path part, `?`, `**` across parts) as a regular expression. */
export function ignorePatternToRegExp(pattern: string): RegExp {
  const cleaned = pattern.replace(/^\/+/, "").replace(/\/+$/, "");
  let source = "";
  for (let i = 0; i < cleaned.length; i++) {
    const char = cleaned[i]!;
    if (char === "*" && cleaned[i + 1] === "*") {
      // `**/` also matches nothing at all: `**/x` matches `x`.
      const slash = cleaned[i + 2] === "/";
      source += slash ? "(?:.*/)?" : ".*";
      i += slash ? 2 : 1;
    } else if (char === "*") {
      source += "[^/]*";
    } else if (char === "?") {
      source += "[^/]";
    } else {
      source += escapeRegExp(char);
    }
  }
  // A pattern that names a directory leaves out everything under it too.
  return new RegExp(`^${source}(?:/.*)?$`);
}

export interface IgnoreRules {
  ignores(path: string): boolean;
}

/** `.dockerignore` text → rules; later lines win, `!` lines bring paths back. */
export function parseDockerignore(text: string): IgnoreRules {
  const rules = text
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line !== "" && !line.startsWith("#"))
    .map((line) => {
      const negated = line.startsWith("!");
      return { negated, regexp: ignorePatternToRegExp(negated ? line.slice(1).trim() : line) };
    });
  return {
    ignores(path) {
      let ignored = false;
      for (const rule of rules) if (rule.regexp.test(path)) ignored = !rule.negated;
      return ignored;
    },
  };
}

export interface TContextEntry {
  path: string;
  type: "file" | "directory" | "symlink";
  mode: number;
  mtime: Date;
  content?: Buffer;
  linkname?: string;
}

/** The entries of `dir`, in a stable order, within `maxBytes` of file content. */
export async function collectContext(
  dir: string,
  options: { maxBytes: number; dockerfile: string },
): Promise<TContextEntry[]> {
  const root = await lstat(dir).catch(() => null);
  if (!root?.isDirectory()) throw new CliError(`${dir} is not a directory`, EXIT.usage);
  const ignoreText = await readFile(join(dir, ".dockerignore"), "utf8").catch(() => "");
  const rules = parseDockerignore(ignoreText);
  // Docker always sends these two, whatever .dockerignore says.
  const kept = new Set([".dockerignore", options.dockerfile]);
  const entries: TContextEntry[] = [];
  let total = 0;
  const walk = async (current: string): Promise<void> => {
    const names = (await readdir(current)).sort();
    for (const name of names) {
      const full = join(current, name);
      const path = relative(dir, full).split(sep).join("/");
      if (rules.ignores(path) && !kept.has(path)) continue;
      const stats = await lstat(full);
      const base = { path, mode: stats.mode & 0o7777, mtime: stats.mtime };
      if (stats.isDirectory()) {
        entries.push({ ...base, type: "directory" });
        await walk(full);
      } else if (stats.isSymbolicLink()) {
        entries.push({ ...base, type: "symlink", linkname: await readlink(full) });
      } else if (stats.isFile()) {
        total += stats.size;
        if (total > options.maxBytes) {
          throw new CliError(
            `the build context in ${dir} is larger than ${Math.floor(options.maxBytes / 1024 / 1024)} MiB, the central's upload limit (leave files out with .dockerignore)`,
          );
        }
        entries.push({ ...base, type: "file", content: await readFile(full) });
      }
      // Sockets, fifos and devices have no place in a build context.
    }
  };
  await walk(dir);
  if (!entries.some((entry) => entry.path === options.dockerfile && entry.type !== "directory")) {
    throw new CliError(`no ${options.dockerfile} in ${dir}`, EXIT.usage);
  }
  return entries;
}

/** The entries as one tar archive. */
export async function tarContext(entries: readonly TContextEntry[]): Promise<Buffer> {
  const archive = pack();
  const chunks: Buffer[] = [];
  const collected = (async () => {
    for await (const chunk of archive) chunks.push(chunk as Buffer);
  })();
  for (const entry of entries) {
    const header = { name: entry.path, mode: entry.mode, mtime: entry.mtime, type: entry.type };
    await new Promise<void>((resolve, reject) => {
      const done = (error?: Error | null) => (error ? reject(error) : resolve());
      if (entry.type === "file")
        archive.entry({ ...header, size: entry.content!.byteLength }, entry.content!, done);
      else if (entry.type === "symlink") archive.entry({ ...header, linkname: entry.linkname ?? "" }, done);
      else archive.entry(header, done);
    });
  }
  archive.finalize();
  await collected;
  return Buffer.concat(chunks);
}
