import { describe, expect, it } from 'vitest';
import type { BoardObject, Shape } from '../../services/types';
import {
  clampToPage,
  distanceToSegment,
  fitOver,
  fitPage,
  hitObjects,
  PAGE_HEIGHT,
  PAGE_WIDTH,
  pageToPixel,
  pixelToPage,
  pressureOf,
  touches,
} from './geometry';

const object = (id: string, shape: Shape, width = 20, fill = false): BoardObject => ({
  id,
  author: 'ada',
  shape,
  style: fill ? { color: '#000000', width, fill } : { color: '#000000', width },
});

describe('page and pixels', () => {
  it('fits the 16:9 page in a box, letterboxed and centred', () => {
    expect(fitPage(1600, 900)).toEqual({ left: 0, top: 0, scaleX: 0.1, scaleY: 0.1 });
    // A tall box: bands above and below.
    const tall = fitPage(800, 900);
    expect(tall.scaleX).toBeCloseTo(0.05);
    expect(tall.scaleY).toBe(tall.scaleX);
    expect(tall.left).toBe(0);
    expect(tall.top).toBeCloseTo((900 - 450) / 2);
    // A wide box: bands left and right.
    const wide = fitPage(2000, 450);
    expect(wide.scaleX).toBeCloseTo(0.05);
    expect(wide.left).toBeCloseTo((2000 - 800) / 2);
    expect(fitPage(0, 0)).toEqual({ left: 0, top: 0, scaleX: 0, scaleY: 0 });
  });

  it('maps page points to pixels and back', () => {
    const v = fitPage(800, 900);
    const corner = pageToPixel(v, [PAGE_WIDTH, PAGE_HEIGHT]);
    expect(corner[0]).toBeCloseTo(800);
    expect(corner[1]).toBeCloseTo(675);
    expect(pixelToPage(v, pageToPixel(v, [4000, 3000]))).toEqual([4000, 3000]);
    expect(pixelToPage(v, [400, 450])).toEqual([8000, 4500]);
  });

  it('clamps points off the page onto it, in whole units', () => {
    const v = fitPage(1600, 900);
    expect(pixelToPage(v, [-50, 2000])).toEqual([0, PAGE_HEIGHT]);
    expect(pixelToPage(v, [10.04, 10.06])).toEqual([100, 101]);
    expect(clampToPage([17000.4, -3])).toEqual([PAGE_WIDTH, 0]);
    expect(clampToPage([Number.NaN, 5])).toEqual([0, 5]);
  });

  it('stretches an annotation page over the shared picture, whatever its shape', () => {
    // A 4:3 screen in a 1600 × 900 box: 1200 × 900 in the middle.
    const v = fitOver(1600, 900, 4 / 3);
    expect(v.left).toBeCloseTo(200);
    expect(v.top).toBeCloseTo(0);
    expect(pageToPixel(v, [PAGE_WIDTH, PAGE_HEIGHT])).toEqual([1400, 900]);
    expect(v.scaleX).not.toBeCloseTo(v.scaleY);
    // No picture yet: as a page.
    expect(fitOver(1600, 900, 0)).toEqual(fitPage(1600, 900));
  });

  it('turns a pointer’s pressure into 0–100, 50 for a mouse', () => {
    expect(pressureOf(0.5, 'mouse')).toBe(50);
    expect(pressureOf(1, 'mouse')).toBe(50);
    expect(pressureOf(0, 'pen')).toBe(50);
    expect(pressureOf(undefined)).toBe(50);
    expect(pressureOf(0.83, 'pen')).toBe(83);
    expect(pressureOf(1.4, 'pen')).toBe(100);
  });
});

describe('what the eraser touches', () => {
  it('measures the distance to a segment', () => {
    expect(distanceToSegment([5, 5], [0, 0], [10, 0])).toBe(5);
    expect(distanceToSegment([-3, 4], [0, 0], [10, 0])).toBe(5);
    expect(distanceToSegment([3, 4], [0, 0], [0, 0])).toBe(5);
  });

  it('touches strokes, lines and arrows near their lines, widths counted', () => {
    const stroke = object('s', { kind: 'pen', points: [[0, 0, 50], [1000, 0, 50], [1000, 1000, 50]] }, 40);
    expect(touches(stroke, [500, 50], 40)).toBe(true); // 50 away: within 40 + 20
    expect(touches(stroke, [500, 70], 40)).toBe(false);
    expect(touches(stroke, [1050, 500], 40)).toBe(true);
    const dot = object('d', { kind: 'highlighter', points: [[100, 100, 50]] });
    expect(touches(dot, [120, 100], 20)).toBe(true);
    const line = object('l', { kind: 'line', from: [0, 0], to: [0, 1000] });
    expect(touches(line, [25, 500], 20)).toBe(true);
    expect(touches(line, [40, 500], 20)).toBe(false);
    const arrow = object('a', { kind: 'arrow', from: [0, 0], to: [1000, 0] });
    expect(touches(arrow, [800, 5], 10)).toBe(true);
  });

  it('touches a rectangle or ellipse on its outline, and inside only when filled', () => {
    const rect = object('r', { kind: 'rect', from: [1000, 1000], to: [0, 0] });
    expect(touches(rect, [0, 500], 10)).toBe(true);
    expect(touches(rect, [500, 500], 10)).toBe(false);
    expect(touches(object('rf', rect.shape, 20, true), [500, 500], 10)).toBe(true);
    const ellipse = object('e', { kind: 'ellipse', from: [0, 0], to: [2000, 1000] });
    expect(touches(ellipse, [1000, 0], 10)).toBe(true);
    expect(touches(ellipse, [2000, 500], 10)).toBe(true);
    expect(touches(ellipse, [1000, 500], 10)).toBe(false);
    expect(touches(ellipse, [100, 100], 10)).toBe(false); // the box's corner is outside
    expect(touches(object('ef', ellipse.shape, 20, true), [1000, 500], 10)).toBe(true);
  });

  it('touches a text anywhere in its box', () => {
    const text = object('t', { kind: 'text', at: [1000, 1000], text: 'hello\nworld!', size: 400 });
    expect(touches(text, [1200, 1600], 0)).toBe(true);
    expect(touches(text, [1200, 1900], 0)).toBe(false);
    expect(touches(text, [1200, 1900], 120)).toBe(true);
  });

  it('finds the objects along the eraser’s way, top first', () => {
    const objects = [
      object('left', { kind: 'line', from: [1000, 0], to: [1000, 9000] }),
      object('right', { kind: 'line', from: [5000, 0], to: [5000, 9000] }),
      object('far', { kind: 'line', from: [9000, 0], to: [9000, 9000] }),
    ];
    expect(hitObjects(objects, [1000, 10], [1000, 10], 30)).toEqual(['left']);
    // Dragged across two lines in one move: both, though no event fell on either.
    expect(hitObjects(objects, [0, 500], [6000, 500], 30)).toEqual(['right', 'left']);
    expect(hitObjects(objects, [2000, 500], [3000, 500], 30)).toEqual([]);
  });
});
