"use client";
// Server-side cursor pagination: the API hands out `nextCursor`; going back
// needs the cursors of the pages before, so they are kept on a stack.
import { useCallback, useState } from "react";

export function useCursorPages() {
  const [stack, setStack] = useState<(string | null)[]>([null]);
  const cursor = stack[stack.length - 1] ?? null;
  const next = useCallback((nextCursor: string) => setStack((pages) => [...pages, nextCursor]), []);
  const previous = useCallback(
    () => setStack((pages) => (pages.length > 1 ? pages.slice(0, -1) : pages)),
    [],
  );
  const reset = useCallback(() => setStack([null]), []);
  return { cursor, page: stack.length, next, previous, reset };
}

export function CursorPager({
  pages,
  nextCursor,
  shown,
  total,
}: {
  pages: ReturnType<typeof useCursorPages>;
  nextCursor: string | null | undefined;
  shown: number;
  /** Rows matching in all, when the API counts them. */
  total?: number | null | undefined;
}) {
  if (pages.page === 1 && !nextCursor) return null;
  return (
    <nav className="pager" aria-label="Pagination">
      <button type="button" onClick={pages.previous} disabled={pages.page === 1}>
        Previous page
      </button>
      <span className="muted">
        Page {pages.page} · {shown} shown
        {typeof total === "number" ? ` of ${total.toLocaleString("en-US")}` : null}
      </span>
      <button type="button" onClick={() => nextCursor && pages.next(nextCursor)} disabled={!nextCursor}>
        Next page
      </button>
    </nav>
  );
}
