import { describe, expect, test } from "vitest";
import type { TOutput } from "../io";
import { LiveBlock, StatusLine } from "./progress";

function capture(isTTY: boolean, columns?: number): TOutput & { text: string } {
  const out = {
    text: "",
    isTTY,
    columns,
    write(chunk: string) {
      out.text += chunk;
    },
  };
  return out;
}

describe("LiveBlock", () => {
  test("redraws in place: up over what it drew, clear each line, clear leftovers", () => {
    const out = capture(true, 80);
    const block = new LiveBlock(out);
    block.render(["a: 10%", "b: 0%"]);
    expect(out.text).toBe("\r\x1b[2Ka: 10%\n\r\x1b[2Kb: 0%\n");
    out.text = "";
    block.render(["a: pulled"]);
    // Up 2, one line, clear the second, and back up 1 so the next draw starts at the top.
    expect(out.text).toBe("\x1b[2A\r\x1b[2Ka: pulled\n\r\x1b[2K\n\x1b[1A");
  });

  test("lines wider than the terminal are cut so the arithmetic holds", () => {
    const out = capture(true, 12);
    new LiveBlock(out).render(["0123456789abcdef"]);
    expect(out.text).toBe("\r\x1b[2K0123456789a\n");
  });
});

describe("StatusLine", () => {
  test("without a terminal each distinct text is printed once, then the final one", () => {
    const out = capture(false);
    const status = new StatusLine(out);
    status.update("web: pending…");
    status.update("web: pending…");
    status.update("web: pulling…");
    status.finish("web is running");
    expect(out.text).toBe("web: pending…\nweb: pulling…\nweb is running\n");
  });

  test("on a terminal a spinner line is replaced by the final text", () => {
    const out = capture(true, 80);
    const status = new StatusLine(out);
    status.update("web: pending…");
    status.finish("web is running");
    // The spinner's frame depends on timing; the rest does not.
    expect(out.text.replace(/[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏]/g, "*")).toBe(
      "\r\x1b[2K* web: pending…\n\x1b[1A\r\x1b[2Kweb is running\n",
    );
  });
});
