import { formatDateTime, formatRelative } from "../format";

/**
 * `3 min ago`, with the exact time on hover. Times that can only be in the
 * past (created, last seen) never read "in 2 s" when the server's clock is a
 * little ahead of the browser's; pass `future` for times that may be ahead
 * (expiry).
 */
export function RelativeTime({
  date,
  now,
  future = false,
  never = "—",
}: {
  date: Date | null | undefined;
  /** From `useNow()`, so the text keeps up. */
  now: number;
  future?: boolean;
  /** What to show without a date. */
  never?: string;
}) {
  if (!date) return <span className="muted">{never}</span>;
  return (
    <time dateTime={date.toISOString()} title={formatDateTime(date)}>
      {formatRelative(date, future ? now : Math.max(now, date.getTime()))}
    </time>
  );
}
