import { describe, expect, it } from 'vitest';
import { rowWindow, scrollToShow } from '../src/lib/virtual';

describe('the rows of a virtualised list', () => {
  it('renders what is in view and a margin either side, and leaves room for the rest', () => {
    // 10,000 rows of 30 px, 600 px shown, 3,000 px scrolled: rows 100–119 in view.
    expect(rowWindow(10_000, 3000, 600, 30, 5, 50)).toEqual({
      start: 95,
      end: 125,
      before: 95 * 30,
      after: (10_000 - 125) * 30,
    });
  });

  it('stays within the list at its top and bottom', () => {
    expect(rowWindow(100, 0, 600, 30, 5, 50)).toMatchObject({ start: 0, end: 25, before: 0 });
    expect(rowWindow(100, 2400, 600, 30, 5, 50)).toMatchObject({ start: 75, end: 100, after: 0 });
    // Scrolled past the end (the list just shrank): nothing left to show below.
    expect(rowWindow(10, 9000, 600, 30, 5, 50)).toEqual({
      start: 10,
      end: 10,
      before: 300,
      after: 0,
    });
    expect(rowWindow(0, 0, 600, 30, 5, 50)).toEqual({ start: 0, end: 0, before: 0, after: 0 });
  });

  it('a list not laid out yet renders its first rows', () => {
    expect(rowWindow(10_000, 0, 0, 30, 5, 50)).toMatchObject({ start: 0, end: 50 });
    expect(rowWindow(7, 0, 0, 30, 5, 50)).toMatchObject({ start: 0, end: 7, after: 0 });
  });

  it('the rendered rows never grow with the list', () => {
    for (const count of [1_000, 10_000, 100_000]) {
      const w = rowWindow(count, count * 15, 800, 32, 8, 50);
      expect(w.end - w.start).toBeLessThanOrEqual(Math.ceil(800 / 32) + 1 + 16);
      expect(w.before + (w.end - w.start) * 32 + w.after).toBe(count * 32);
    }
  });
});

describe('scrolling a row into view', () => {
  it('leaves the scroll alone when the row shows whole', () => {
    expect(scrollToShow(10, 200, 600, 30, 30)).toBe(200);
  });

  it('scrolls up to a row above, below the sticky header', () => {
    // Row 2 starts 30 + 60 px down; the header covers the top 30 px of the view.
    expect(scrollToShow(2, 500, 600, 30, 30)).toBe(60);
  });

  it('scrolls down just enough for a row below', () => {
    // Row 40 ends at 30 + 41 * 30 = 1260 px.
    expect(scrollToShow(40, 0, 600, 30, 30)).toBe(1260 - 600);
  });
});
