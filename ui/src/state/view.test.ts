import { describe, expect, it } from 'vitest';
import type { ViewTile } from '../services/types';
import { devicePixels, MAX_TILE_EDGE, MAX_VIEW_TILES, sameView, sizeStep, viewTiles, viewToSend, type TileSighting } from './view';

const seen = (identity: string, width: number, height: number, extra: Partial<TileSighting> = {}): TileSighting => ({
  identity,
  video: 'camera',
  visible: true,
  width,
  height,
  ...extra,
});

const tile = (identity: string, width: number, height: number, video: ViewTile['video'] = 'camera'): ViewTile => ({
  identity,
  video,
  width,
  height,
});

describe('devicePixels', () => {
  it('multiplies by the pixel ratio and rounds', () => {
    expect(devicePixels(320.4, 1)).toBe(320);
    expect(devicePixels(320.4, 2)).toBe(641);
    expect(devicePixels(100, 1.25)).toBe(125);
  });

  it('keeps sizes within 1..7680', () => {
    expect(devicePixels(0.2, 1)).toBe(1);
    expect(devicePixels(0, 2)).toBe(1);
    expect(devicePixels(5000, 2)).toBe(MAX_TILE_EDGE);
    expect(devicePixels(Number.NaN, 1)).toBe(1);
    expect(devicePixels(Number.POSITIVE_INFINITY, 1)).toBe(MAX_TILE_EDGE);
  });

  it('takes a missing or broken ratio as 1', () => {
    expect(devicePixels(200, 0)).toBe(200);
    expect(devicePixels(200, Number.NaN)).toBe(200);
  });
});

describe('viewTiles', () => {
  it('lists the visible tiles with a size, in device pixels, by identity then video', () => {
    const view = viewTiles(
      [
        seen('dan-4', 300, 200),
        seen('bob-2', 300.2, 199.6),
        seen('bob-2', 800, 450, { video: 'screen' }),
        seen('cat-3', 300, 200, { visible: false }),
        seen('eve-5', 0, 0),
      ],
      2,
      false,
    );
    expect(view).toEqual([tile('bob-2', 600, 399), tile('bob-2', 1600, 900, 'screen'), tile('dan-4', 600, 400)]);
  });

  it('is empty while the window is hidden', () => {
    expect(viewTiles([seen('bob-2', 300, 200)], 1, true)).toEqual([]);
  });

  it('counts a tile seen twice once, at its larger size', () => {
    expect(viewTiles([seen('bob-2', 100, 100), seen('bob-2', 300, 200)], 1, false)).toEqual([tile('bob-2', 300, 200)]);
  });

  it('leaves out the smallest tiles past the most a view takes', () => {
    const many = Array.from({ length: MAX_VIEW_TILES + 2 }, (_, i) => seen(`p-${String(i).padStart(3, '0')}`, 100 + i, 100));
    const view = viewTiles(many, 1, false);
    expect(view).toHaveLength(MAX_VIEW_TILES);
    expect(view.map((t) => t.identity)).not.toContain('p-000');
    expect(view.map((t) => t.identity)).not.toContain('p-001');
    expect(view[0]?.identity).toBe('p-002');
  });
});

describe('sameView and viewToSend', () => {
  const view = [tile('bob-2', 640, 352), tile('cat-3', 640, 352)];

  it('takes sizes within a step as the same', () => {
    expect(sizeStep(640)).toBe(sizeStep(645));
    expect(sameView(view, [tile('bob-2', 644, 355), tile('cat-3', 637, 349)])).toBe(true);
    expect(sameView(view, [tile('bob-2', 700, 352), tile('cat-3', 640, 352)])).toBe(false);
  });

  it('tells apart other tiles, another video, another count', () => {
    expect(sameView(view, [tile('bob-2', 640, 352)])).toBe(false);
    expect(sameView(view, [tile('bob-2', 640, 352), tile('dan-4', 640, 352)])).toBe(false);
    expect(sameView(view, [tile('bob-2', 640, 352), tile('cat-3', 640, 352, 'screen')])).toBe(false);
    expect(sameView([], [])).toBe(true);
  });

  it('sends the first view (an empty one too), then only changes, or when forced', () => {
    expect(viewToSend(null, [], false)).toEqual([]);
    expect(viewToSend(null, view, false)).toBe(view);
    expect(viewToSend(view, [tile('bob-2', 642, 352), tile('cat-3', 640, 352)], false)).toBeNull();
    expect(viewToSend(view, [...view], true)).toEqual(view);
    const next = [tile('bob-2', 960, 540)];
    expect(viewToSend(view, next, false)).toBe(next);
  });
});
