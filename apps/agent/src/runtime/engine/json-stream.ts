/**
 * Splits the engine's streaming JSON (pull/push/build progress, events) into
 * objects. Docker separates objects with "\r\n", Podman with "\n", and Podman
 * sometimes puts two objects in one chunk; a chunk may also end mid-object or
 * mid-character. So this scans for balanced top-level objects instead of
 * trusting line breaks.
 */
import { StringDecoder } from "node:string_decoder";

const MAX_OBJECT_CHARS = 1024 * 1024;

export class JsonObjectSplitter {
  private readonly decoder = new StringDecoder("utf8");
  private pending = "";
  private depth = 0;
  private inString = false;
  private escaped = false;
  private scanned = 0;

  /** Returns every object completed by this chunk, parsed. Text between objects is skipped. */
  push(chunk: Buffer | string): unknown[] {
    this.pending += typeof chunk === "string" ? chunk : this.decoder.write(chunk);
    const out: unknown[] = [];
    let start = this.depth > 0 ? 0 : -1;
    let i = this.scanned;
    for (; i < this.pending.length; i++) {
      const ch = this.pending[i];
      if (this.inString) {
        if (this.escaped) this.escaped = false;
        else if (ch === "\\") this.escaped = true;
        else if (ch === '"') this.inString = false;
        continue;
      }
      if (ch === '"' && this.depth > 0) this.inString = true;
      else if (ch === "{") {
        if (this.depth === 0) start = i;
        this.depth++;
      } else if (ch === "}" && this.depth > 0) {
        this.depth--;
        if (this.depth === 0 && start >= 0) {
          out.push(JSON.parse(this.pending.slice(start, i + 1)));
          start = -1;
        }
      }
    }
    if (this.depth > 0 && start >= 0) {
      this.pending = this.pending.slice(start);
      this.scanned = this.pending.length;
      if (this.pending.length > MAX_OBJECT_CHARS) {
        throw new Error(`engine sent a JSON object larger than ${MAX_OBJECT_CHARS} characters`);
      }
    } else {
      this.pending = "";
      this.scanned = 0;
    }
    return out;
  }
}
