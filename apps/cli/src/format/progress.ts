// Progress on stderr. On a terminal a block of lines is redrawn in place
// (a spinner line while `fleet run` waits, one line per host while `fleet
// pull` runs); anywhere else each change is printed once as a plain line, so
// logs of scripts stay readable.
import type { TOutput } from "../io";

const SPINNER = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"];
const CLEAR_LINE = "\r\x1b[2K";

function cursorUp(lines: number): string {
  return lines > 0 ? `\x1b[${lines}A` : "";
}

/** Lines redrawn in place on a terminal; `render` replaces the whole block. */
export class LiveBlock {
  private drawn = 0;

  constructor(private readonly out: TOutput) {}

  render(lines: readonly string[]): void {
    const columns = this.out.columns && this.out.columns > 10 ? this.out.columns : 0;
    // A line wider than the terminal wraps, and the cursor arithmetic breaks.
    const fitted = columns
      ? lines.map((line) => (line.length >= columns ? line.slice(0, columns - 1) : line))
      : lines;
    let text = cursorUp(this.drawn);
    for (const line of fitted) text += `${CLEAR_LINE}${line}\n`;
    // Shrinking: clear what the previous draw left below.
    for (let extra = fitted.length; extra < this.drawn; extra++) text += `${CLEAR_LINE}\n`;
    const below = Math.max(0, this.drawn - fitted.length);
    text += cursorUp(below);
    this.out.write(text);
    this.drawn = fitted.length;
  }

  /** Leaves the last drawing on screen; later output goes below it. */
  done(): void {
    this.drawn = 0;
  }
}

/**
 * One line of progress with a spinner on a terminal; elsewhere each distinct
 * text is printed once.
 */
export class StatusLine {
  private frame = 0;
  private text = "";
  private timer: NodeJS.Timeout | null = null;
  private readonly block: LiveBlock | null;
  private lastPrinted = "";

  constructor(private readonly out: TOutput) {
    this.block = out.isTTY ? new LiveBlock(out) : null;
  }

  update(text: string): void {
    this.text = text;
    if (!this.block) {
      if (text !== this.lastPrinted) this.out.write(`${text}\n`);
      this.lastPrinted = text;
      return;
    }
    this.draw();
    this.timer ??= setInterval(() => this.draw(), 100);
    this.timer.unref?.();
  }

  private draw(): void {
    this.frame = (this.frame + 1) % SPINNER.length;
    this.block?.render([`${SPINNER[this.frame]} ${this.text}`]);
  }

  /** Stops the spinner; `final` replaces the line (on a terminal) or is printed. */
  finish(final?: string): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    if (this.block) {
      this.block.render(final === undefined ? [] : [final]);
      this.block.done();
    } else if (final !== undefined && final !== this.lastPrinted) {
      this.out.write(`${final}\n`);
    }
  }
}

/** Clears a terminal and homes the cursor (`fleet top`'s redraw). */
export const CLEAR_SCREEN = "\x1b[H\x1b[2J";
