import { describe, expect, it } from 'vitest';
import { clampPage, galleryPage, pageCount, TILES_PER_PAGE } from './gallery';

const people = (n: number) => Array.from({ length: n }, (_, i) => `p${i + 1}`);

describe('pageCount and clampPage', () => {
  it('fills pages of nine, at least one', () => {
    expect(TILES_PER_PAGE).toBe(9);
    expect(pageCount(0)).toBe(1);
    expect(pageCount(1)).toBe(1);
    expect(pageCount(9)).toBe(1);
    expect(pageCount(10)).toBe(2);
    expect(pageCount(27)).toBe(3);
    expect(pageCount(28)).toBe(4);
  });

  it('keeps a page within those there are', () => {
    expect(clampPage(-1, 3)).toBe(0);
    expect(clampPage(1, 3)).toBe(1);
    expect(clampPage(5, 3)).toBe(2);
    expect(clampPage(2, 0)).toBe(0);
    expect(clampPage(Number.NaN, 3)).toBe(0);
  });
});

describe('galleryPage', () => {
  it('puts us first on page 1, then the others in order, nine a page', () => {
    const others = people(12);
    expect(galleryPage('me', others, 0)).toEqual({ tiles: ['me', ...others.slice(0, 8)], page: 0, pages: 2 });
    expect(galleryPage('me', others, 1)).toEqual({ tiles: others.slice(8), page: 1, pages: 2 });
  });

  it('is one page, and no more, for up to nine', () => {
    expect(galleryPage('me', people(8), 0)).toEqual({ tiles: ['me', ...people(8)], page: 0, pages: 1 });
    expect(galleryPage('me', [], 0)).toEqual({ tiles: ['me'], page: 0, pages: 1 });
  });

  it('clamps the page when people leave', () => {
    const before = galleryPage('me', people(20), 2);
    expect(before).toEqual({ tiles: people(20).slice(17), page: 2, pages: 3 });
    expect(galleryPage('me', people(12), 2)).toEqual({ tiles: people(12).slice(8), page: 1, pages: 2 });
    expect(galleryPage('me', people(5), 2)).toEqual({ tiles: ['me', ...people(5)], page: 0, pages: 1 });
  });

  it('keeps everyone in place whoever speaks: pages follow the order given, nothing else', () => {
    const others = people(17);
    const pages = [0, 1].map((page) => galleryPage('me', others, page).tiles);
    expect(pages.flat()).toEqual(['me', ...others]);
    expect(pages[1]).toEqual(others.slice(8, 17));
  });

  it('takes another page size', () => {
    expect(galleryPage('me', people(5), 1, 4)).toEqual({ tiles: ['p4', 'p5'], page: 1, pages: 2 });
  });
});
