// Windowing arithmetic for lists with a fixed row height (tests in
// __tests__/virtual.test.ts). Browsers cap an element's height (some near
// 16.7 million px), so past `maxHeight` the scroll range is compressed: the
// scroll position maps linearly onto the list's logical position.

export const MAX_SCROLL_HEIGHT = 8_000_000;

export type Range = {
  /** First row to render (inclusive). */
  start: number;
  /** Row after the last one to render (exclusive). */
  end: number;
  /** Where row `start` goes, in the scroll content's coordinates (px). */
  top: number;
  /** Height of the scroll content (px). */
  height: number;
};

export type Geometry = {
  scrollTop: number;
  viewport: number;
  rowHeight: number;
  count: number;
  overscan?: number;
  maxHeight?: number;
};

function ratio(count: number, rowHeight: number, viewport: number, maxHeight: number): { logical: number; height: number; k: number } {
  const logical = count * rowHeight;
  const height = Math.min(logical, maxHeight);
  if (logical <= maxHeight || height <= viewport) return { logical, height, k: 1 };
  return { logical, height, k: (logical - viewport) / (height - viewport) };
}

export function visibleRange(g: Geometry): Range {
  const overscan = g.overscan ?? 4;
  const maxHeight = g.maxHeight ?? MAX_SCROLL_HEIGHT;
  const { count, rowHeight } = g;
  const viewport = Math.max(0, g.viewport);
  if (count <= 0 || rowHeight <= 0) return { start: 0, end: 0, top: 0, height: 0 };
  const { height, k, logical } = ratio(count, rowHeight, viewport, maxHeight);
  const scrollTop = Math.min(Math.max(0, g.scrollTop), Math.max(0, height - viewport));
  const logicalTop = Math.min(scrollTop * k, Math.max(0, logical - viewport));
  const first = Math.floor(logicalTop / rowHeight);
  const last = Math.ceil((logicalTop + viewport) / rowHeight); // exclusive
  const start = Math.max(0, first - overscan);
  const end = Math.min(count, Math.max(last, first + 1) + overscan);
  // Row i sits at i*rowHeight logically; in content coordinates that is
  // shifted so the logical top lines up with the real scrollTop.
  const top = start * rowHeight - logicalTop + scrollTop;
  return { start, end, top, height };
}

/**
 * The scrollTop that brings row `index` fully into view with the least
 * movement (unchanged when it already is).
 */
export function scrollTopFor(index: number, g: Omit<Geometry, 'overscan'>): number {
  const maxHeight = g.maxHeight ?? MAX_SCROLL_HEIGHT;
  const { rowHeight, count } = g;
  const viewport = Math.max(0, g.viewport);
  if (count <= 0) return 0;
  const { height, k, logical } = ratio(count, rowHeight, viewport, maxHeight);
  const scrollTop = Math.min(Math.max(0, g.scrollTop), Math.max(0, height - viewport));
  const logicalTop = scrollTop * k;
  const rowTop = Math.max(0, Math.min(index, count - 1)) * rowHeight;
  let target = logicalTop;
  if (rowTop < logicalTop) target = rowTop;
  else if (rowTop + rowHeight > logicalTop + viewport) target = rowTop + rowHeight - viewport;
  else return g.scrollTop;
  target = Math.min(Math.max(0, target), Math.max(0, logical - viewport));
  return target / k;
}

/** Ask for the next page when fewer than `threshold` loaded rows remain below the window. */
export function nearEnd(range: Range, count: number, threshold = 30): boolean {
  return count > 0 && range.end >= count - threshold;
}

/** Rows in one page-up/page-down step. */
export function pageRows(viewport: number, rowHeight: number): number {
  return Math.max(1, Math.floor(viewport / rowHeight) - 1);
}
