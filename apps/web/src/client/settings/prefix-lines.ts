/** One bind-mount prefix per line; blank lines are dropped, the server checks and normalises the rest. */
export function prefixLines(text: string): string[] {
  return text
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line !== "");
}
