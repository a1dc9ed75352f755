// The arithmetic of a virtualised list: which rows of equal height are in
// view (plus a margin, so a fast scroll does not show blanks), how much room
// the rows above and below take, and where to scroll to show one row.

export interface RowWindow {
  /** The first row to render. */
  start: number;
  /** One past the last row to render. */
  end: number;
  /** Pixels of rows above `start`, and below `end`. */
  before: number;
  after: number;
}

/**
 * The rows to render when `offset` pixels of the rows are scrolled past and
 * `viewport` pixels are shown. An unknown viewport (0: not laid out yet, or no
 * layout at all) renders the first `fallback` rows.
 */
export function rowWindow(
  count: number,
  offset: number,
  viewport: number,
  rowHeight: number,
  overscan: number,
  fallback: number,
): RowWindow {
  let start: number;
  let end: number;
  if (viewport <= 0 || rowHeight <= 0) {
    start = 0;
    end = Math.min(count, fallback);
  } else {
    const top = Math.max(0, offset);
    start = Math.min(count, Math.max(0, Math.floor(top / rowHeight) - overscan));
    end = Math.min(count, Math.ceil((top + viewport) / rowHeight) + overscan);
  }
  const height = Math.max(rowHeight, 0);
  return { start, end, before: start * height, after: (count - end) * height };
}

/**
 * The scroll position that shows row `index` whole, moving as little as
 * possible: `scrollTop` as it is when the row is already in view. `head` is
 * the height of what sticks over the top of the rows (a table's header).
 */
export function scrollToShow(
  index: number,
  scrollTop: number,
  viewport: number,
  rowHeight: number,
  head: number,
): number {
  const top = head + index * rowHeight;
  const bottom = top + rowHeight;
  if (top - head < scrollTop) return Math.max(0, top - head);
  if (bottom > scrollTop + viewport) return bottom - viewport;
  return scrollTop;
}
