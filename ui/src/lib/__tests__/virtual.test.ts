import { describe, expect, it } from 'vitest';
import { nearEnd, pageRows, scrollTopFor, visibleRange } from '../virtual';

describe('visibleRange', () => {
  it('renders the rows in view plus the overscan', () => {
    const r = visibleRange({ scrollTop: 0, viewport: 340, rowHeight: 34, count: 1000, overscan: 4 });
    expect(r).toEqual({ start: 0, end: 14, top: 0, height: 34_000 });
  });

  it('follows the scroll position, rows placed where they belong', () => {
    const r = visibleRange({ scrollTop: 3400, viewport: 340, rowHeight: 34, count: 1000, overscan: 4 });
    expect(r.start).toBe(96);
    expect(r.end).toBe(114);
    expect(r.top).toBe(96 * 34);
  });

  it('handles a partly scrolled row', () => {
    const r = visibleRange({ scrollTop: 50, viewport: 100, rowHeight: 34, count: 1000, overscan: 0 });
    // rows 1 (34..68) to 4 (136..170) intersect 50..150
    expect(r.start).toBe(1);
    expect(r.end).toBe(5);
  });

  it('clamps at the end of the list and when scrolled past it', () => {
    const r = visibleRange({ scrollTop: 1e9, viewport: 340, rowHeight: 34, count: 50, overscan: 4 });
    expect(r.end).toBe(50);
    expect(r.start).toBe(50 - 10 - 4);
    expect(r.height).toBe(1700);
  });

  it('renders nothing for an empty list or no height', () => {
    expect(visibleRange({ scrollTop: 0, viewport: 500, rowHeight: 34, count: 0 })).toEqual({ start: 0, end: 0, top: 0, height: 0 });
    const r = visibleRange({ scrollTop: 0, viewport: 0, rowHeight: 34, count: 10, overscan: 0 });
    expect(r.end - r.start).toBe(1);
  });

  it('keeps a short list whole', () => {
    const r = visibleRange({ scrollTop: 0, viewport: 600, rowHeight: 30, count: 5, overscan: 4 });
    expect(r).toMatchObject({ start: 0, end: 5, height: 150 });
  });

  it('renders a bounded window however long the list (100k and 1M rows)', () => {
    for (const count of [100_000, 1_000_000]) {
      for (const scrollTop of [0, 123_456, 2_000_000, 7_999_000]) {
        const r = visibleRange({ scrollTop, viewport: 600, rowHeight: 34, count, overscan: 6 });
        expect(r.end - r.start).toBeLessThanOrEqual(Math.ceil(600 / 34) + 1 + 12);
        expect(r.start).toBeGreaterThanOrEqual(0);
        expect(r.end).toBeLessThanOrEqual(count);
      }
    }
  });

  it('compresses a list taller than the browser allows and still reaches the last row', () => {
    const count = 1_000_000;
    const g = { viewport: 600, rowHeight: 34, count, overscan: 0, maxHeight: 8_000_000 };
    const bottom = visibleRange({ ...g, scrollTop: 8_000_000 - 600 });
    expect(bottom.height).toBe(8_000_000);
    expect(bottom.end).toBe(count);
    // The last row's bottom edge sits exactly at the bottom of the viewport.
    const lastTop = bottom.top + (count - 1 - bottom.start) * 34;
    expect(lastTop + 34).toBeCloseTo(8_000_000, 3);
    const middle = visibleRange({ ...g, scrollTop: (8_000_000 - 600) / 2 });
    expect(middle.start).toBeGreaterThan(count / 2 - 20);
    expect(middle.start).toBeLessThan(count / 2 + 20);
    // Rows are drawn inside the viewport.
    expect(middle.top).toBeGreaterThan((8_000_000 - 600) / 2 - 34);
    expect(middle.top).toBeLessThanOrEqual((8_000_000 - 600) / 2);
  });
});

describe('scrollTopFor', () => {
  const g = { viewport: 340, rowHeight: 34, count: 1000 };

  it('does not move when the row is already in view', () => {
    expect(scrollTopFor(3, { ...g, scrollTop: 0 })).toBe(0);
  });

  it('scrolls down just enough to show a row below', () => {
    expect(scrollTopFor(10, { ...g, scrollTop: 0 })).toBe(11 * 34 - 340);
  });

  it('scrolls up to a row above', () => {
    expect(scrollTopFor(5, { ...g, scrollTop: 3400 })).toBe(5 * 34);
  });

  it('reaches the end of a compressed list', () => {
    const big = { viewport: 600, rowHeight: 34, count: 1_000_000, maxHeight: 8_000_000, scrollTop: 0 };
    const top = scrollTopFor(999_999, big);
    expect(top).toBeCloseTo(8_000_000 - 600, 3);
    const r = visibleRange({ ...big, scrollTop: top, overscan: 0 });
    expect(r.end).toBe(1_000_000);
  });
});

describe('paging helpers', () => {
  it('asks for more rows near the end of what is loaded', () => {
    expect(nearEnd({ start: 60, end: 75, top: 0, height: 0 }, 100, 30)).toBe(true);
    expect(nearEnd({ start: 0, end: 20, top: 0, height: 0 }, 100, 30)).toBe(false);
    expect(nearEnd({ start: 0, end: 0, top: 0, height: 0 }, 0, 30)).toBe(false);
  });

  it('pages by a screenful less one row', () => {
    expect(pageRows(340, 34)).toBe(9);
    expect(pageRows(10, 34)).toBe(1);
  });
});
