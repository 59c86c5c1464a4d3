// Browser tests of what the room tells the relay it shows (`set_view`) and of the gallery's
// pages: nine tiles a page, us first; the view names the others' cameras on the page (and
// a shared screen), each with its size, and follows paging, people leaving, the strip
// beside a shared screen as it scrolls, and the window being hidden. The built UI in
// Debian's Chromium; the Tauri shell faked (fake-tauri.js records every view).
//
// Run: npm run test:browser (builds first); this file alone after a build:
// node --test browser-tests/view.test.mjs

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { eventually, hostRoom, open, startBrowser, stopBrowser, waitGone, waitVisible } from './harness.mjs';
import { participant } from '../src/test/fixtures.js';

before(startBrowser);
after(stopBrowser);

/** Twelve others, cameras on, in the order they joined: p02 … p13. */
const OTHERS = Array.from({ length: 12 }, (_, i) => {
  const n = String(i + 2).padStart(2, '0');
  return participant(`p${n}`, `Person ${n}`, { joinedAt: i + 2 });
});
const ids = (people) => people.map((p) => p.identity);

/** The tiles drawn, in order. */
const shownTiles = (t) => t.id('tiles').locator('figure.tile').evaluateAll((els) => els.map((el) => el.dataset.identity));

/** The views sent so far. */
const views = async (t) => (await t.calls('set_view')).map((c) => c.tiles);

/** Waits until the latest view names exactly `expected` ([identity, video] pairs, any order), each with a size. */
async function viewShows(t, expected) {
  return eventually(async () => {
    const all = await views(t);
    const last = all.at(-1);
    assert.ok(last, 'no view sent');
    const named = last.map((tile) => `${tile.identity}:${tile.video}`).sort();
    assert.deepEqual(named, expected.map(([identity, video]) => `${identity}:${video}`).sort());
    for (const tile of last) {
      assert.ok(Number.isInteger(tile.width) && tile.width > 0, JSON.stringify(tile));
      assert.ok(Number.isInteger(tile.height) && tile.height > 0, JSON.stringify(tile));
    }
    return last;
  });
}

const cameras = (people) => ids(people).map((id) => [id, 'camera']);

/** The tiles of the strip that are at least partly inside it, as it is scrolled now. */
const inStrip = (t) =>
  t.id('tiles').evaluate((strip) => {
    const box = strip.getBoundingClientRect();
    return [...strip.querySelectorAll('figure.tile')]
      .filter((el) => {
        const r = el.getBoundingClientRect();
        return r.bottom > box.top && r.top < box.bottom && r.height > 0;
      })
      .map((el) => el.dataset.identity);
  });

describe('the gallery and the view', () => {
  it('pages nine tiles at a time and tells the relay which cameras are on screen, and how large', async () => {
    const t = await open({ others: OTHERS });
    await hostRoom(t);

    // Page 1: us and the first eight.
    await eventually(async () => assert.deepEqual(await shownTiles(t), ['me-1', ...ids(OTHERS.slice(0, 8))]));
    assert.equal(await t.text('grid-page'), 'Page 1 of 2');
    assert.equal(await t.id('grid-prev').isDisabled(), true);
    assert.equal(await t.id('grid-prev').getAttribute('aria-label'), 'Previous page');
    assert.equal(await t.id('grid-next').getAttribute('aria-label'), 'Next page');
    const first = await viewShows(t, cameras(OTHERS.slice(0, 8)));
    // The size is the tile's, in device pixels.
    const box = await t.id(`tile-${first[0].identity}`).boundingBox();
    const ratio = await t.page.evaluate(() => window.devicePixelRatio);
    assert.ok(Math.abs(first[0].width - box.width * ratio) <= 1, `${first[0].width} vs ${box.width}`);
    assert.ok(Math.abs(first[0].height - box.height * ratio) <= 1, `${first[0].height} vs ${box.height}`);
    // Once the layout is still, nothing more is sent.
    const sent = (await views(t)).length;
    await t.page.waitForTimeout(700);
    assert.equal((await views(t)).length, sent);

    // Page 2: the other four, and a view naming them.
    await t.id('grid-next').click();
    await eventually(async () => assert.deepEqual(await shownTiles(t), ids(OTHERS.slice(8))));
    assert.equal(await t.text('grid-page'), 'Page 2 of 2');
    assert.equal(await t.id('grid-next').isDisabled(), true);
    await viewShows(t, cameras(OTHERS.slice(8)));

    // Back to page 1 and its view.
    await t.id('grid-prev').click();
    await viewShows(t, cameras(OTHERS.slice(0, 8)));
    await t.id('grid-next').click();
    await viewShows(t, cameras(OTHERS.slice(8)));

    // Four of page 1 leave: everyone fits on one page, which is shown, without a pager.
    for (const p of OTHERS.slice(0, 4)) {
      await t.emit('room-event', { type: 'participantLeft', identity: p.identity, reason: 'left' });
    }
    await waitGone(t.id('grid-pager'));
    await eventually(async () => assert.deepEqual(await shownTiles(t), ['me-1', ...ids(OTHERS.slice(4))]));
    await viewShows(t, cameras(OTHERS.slice(4)));

    // A camera turned off is not asked for.
    const off = OTHERS[5];
    await t.emit('room-event', { type: 'participantUpdated', participant: { ...off, media: { ...off.media, camera: false } } });
    await viewShows(t, cameras(OTHERS.slice(4).filter((p) => p !== off)));
    await t.done();
  });

  it('names a shared screen, and the cameras of the strip beside it that are scrolled into sight', async () => {
    const t = await open({ others: OTHERS });
    await hostRoom(t);
    await viewShows(t, cameras(OTHERS.slice(0, 8)));

    const sharer = OTHERS[9]; // on page 2 of the gallery
    await t.emit('room-event', { type: 'participantUpdated', participant: { ...sharer, media: { ...sharer.media, screen: true } } });
    await waitVisible(t.id('screen-stage'));
    await waitGone(t.id('grid-pager'));
    // The strip holds everyone; what is scrolled out of it is not on screen.
    await eventually(async () => assert.equal((await shownTiles(t)).length, 13));
    const seen = (await inStrip(t)).filter((id) => id !== 'me-1');
    assert.ok(seen.length > 0 && seen.length < 12, `${seen.length} in sight`);
    const view = await viewShows(t, [[sharer.identity, 'screen'], ...seen.map((id) => [id, 'camera'])]);
    const screen = view.find((tile) => tile.video === 'screen');
    const stage = await t.id('screen-stage').boundingBox();
    assert.ok(screen.width > 300 && Math.abs(screen.width - stage.width * (await t.page.evaluate(() => window.devicePixelRatio))) <= 1);

    // Scrolled to the end: the last ones come into sight, the first go out.
    await t.id('tiles').evaluate((strip) => strip.scrollTo(0, strip.scrollHeight));
    await eventually(async () => assert.ok((await inStrip(t)).includes(OTHERS.at(-1).identity)));
    const later = (await inStrip(t)).filter((id) => id !== 'me-1');
    assert.ok(!later.includes(OTHERS[0].identity));
    await viewShows(t, [[sharer.identity, 'screen'], ...later.map((id) => [id, 'camera'])]);

    // Our own share is not asked for: the relay does not send it to us.
    await t.emit('room-event', { type: 'participantUpdated', participant: sharer });
    await waitGone(t.id('screen-stage'));
    await t.id('toggle-screen').click();
    await waitVisible(t.id('screen-stage'));
    await eventually(async () => {
      const last = (await views(t)).at(-1);
      assert.ok(last.length > 0 && last.every((tile) => tile.video === 'camera' && tile.identity !== 'me-1'), JSON.stringify(last));
    });
    await t.done();
  });

  it('sends an empty view while the window is hidden, and the real one when it shows again', async () => {
    const t = await open({ others: OTHERS.slice(0, 3) });
    await hostRoom(t);
    await viewShows(t, cameras(OTHERS.slice(0, 3)));
    const setVisibility = (state) =>
      t.page.evaluate((s) => {
        Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => s });
        document.dispatchEvent(new Event('visibilitychange'));
      }, state);
    await setVisibility('hidden');
    await viewShows(t, []);
    await setVisibility('visible');
    await viewShows(t, cameras(OTHERS.slice(0, 3)));
    await t.done();
  });
});
