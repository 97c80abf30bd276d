import { describe, expect, it } from 'vitest';
import { clampPage, pageCount, rangeLabel } from './paging';

describe('paging', () => {
  it('counts pages, at least one', () => {
    expect(pageCount(0, 30)).toBe(1);
    expect(pageCount(30, 30)).toBe(1);
    expect(pageCount(31, 30)).toBe(2);
    expect(pageCount(5, 0)).toBe(5);
  });

  it('keeps the page within the pages there are', () => {
    expect(clampPage(3, 60, 30)).toBe(2);
    expect(clampPage(0, 60, 30)).toBe(1);
    expect(clampPage(2, 60, 30)).toBe(2);
  });

  it('labels the shown range', () => {
    expect(rangeLabel(1, 30, 0)).toBe('0 of 0');
    expect(rangeLabel(1, 30, 75)).toBe('1–30 of 75');
    expect(rangeLabel(3, 30, 75)).toBe('61–75 of 75');
  });
});
