import { act, cleanup, fireEvent, render, screen, waitFor, within } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ToastProvider } from '../components/Toasts';
import * as service from '../services/studyhall';
import { AppError, type Link, type Profile, type RoomEvent, type RoomSnapshot } from '../services/studyhall';
import { profileOf } from '../state/profile';
import {
  features,
  handlers,
  invite,
  link,
  mediaStatus,
  participant,
  raisedHand,
  resetHandlers,
  settings,
  snapshot,
} from '../test/serviceMock';
import { RoomScreen } from './RoomScreen';

vi.mock('../services/studyhall', async (importOriginal) =>
  (await import('../test/serviceMock')).mockService(importOriginal),
);

afterEach(() => {
  cleanup();
  resetHandlers();
  vi.useRealTimers();
});

function renderRoom(snap: RoomSnapshot = snapshot()) {
  render(
    <ToastProvider>
      <RoomScreen snapshot={snap} invite="K7QX-29FD@192.168.1.20:7450" onExit={() => {}} />
    </ToastProvider>,
  );
}

function emit(event: RoomEvent) {
  act(() => handlers.room.forEach((h) => h(event)));
}

function emitLinks(...links: Link[]) {
  act(() => handlers.media.forEach((h) => h(mediaStatus({ links }))));
}

function handQueue(...identities: string[]): RoomEvent {
  return { type: 'feature', event: { type: 'hand_queue', hands: identities.map((id) => raisedHand(id)), by: 'bob-2' } };
}

/** A promise the test settles. */
function deferred() {
  let resolve: (value: null) => void = () => {};
  let reject: (error: unknown) => void = () => {};
  const promise = new Promise<null>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

const openPeople = () => fireEvent.click(screen.getByTestId('toggle-people'));
const queued = () => within(screen.getByTestId('hand-queue')).queryAllByRole('listitem');

describe('raise hand', () => {
  it('sends raise_hand, waits with a spinner, and shows the hand once the relay sends the queue', async () => {
    const request = deferred();
    vi.mocked(service.featureRequest).mockReturnValueOnce(request.promise);
    renderRoom();
    const button = screen.getByTestId<HTMLButtonElement>('toggle-hand');
    expect(button.textContent).toBe('Raise hand');
    expect(button.getAttribute('aria-pressed')).toBe('false');

    fireEvent.click(button);
    expect(service.featureRequest).toHaveBeenCalledWith({ type: 'raise_hand' });
    expect(button.disabled).toBe(true);
    expect(button.querySelector('.spinner')).not.toBeNull();
    await act(async () => {
      request.resolve(null);
      await request.promise;
    });
    expect(button.disabled).toBe(false);
    // Not optimistic: still down until the relay's queue says otherwise.
    expect(button.textContent).toBe('Raise hand');
    expect(screen.queryByTestId('hand-ada-1')).toBeNull();

    emit(handQueue('ada-1'));
    expect(button.textContent).toBe('Lower hand');
    expect(button.getAttribute('aria-pressed')).toBe('true');
    expect(within(screen.getByTestId('tile-self')).getByTestId('hand-ada-1').textContent).toBe('1');

    fireEvent.click(button);
    expect(service.featureRequest).toHaveBeenLastCalledWith({ type: 'lower_hand' });
    await waitFor(() => expect(button.disabled).toBe(false));
  });

  it('shows a hand_queue as badges with places and as the queue, in order', () => {
    renderRoom(snapshot({ participants: [participant('bob-2', 'Bob', { joinedAt: 2 }), participant('cat-3', 'Cat', { joinedAt: 3 })] }));
    openPeople();
    expect(screen.getByTestId('hand-queue').textContent).toContain('No hands raised');

    emit(handQueue('cat-3', 'ada-1', 'bob-2'));
    expect(within(screen.getByTestId('tile-cat-3')).getByTestId('hand-cat-3').textContent).toBe('1');
    expect(within(screen.getByTestId('tile-self')).getByTestId('hand-ada-1').textContent).toBe('2');
    expect(within(screen.getByTestId('tile-bob-2')).getByTestId('hand-bob-2').textContent).toBe('3');
    expect(queued().map((li) => li.dataset.testid)).toEqual(['queued-cat-3', 'queued-ada-1', 'queued-bob-2']);
    expect(screen.getByTestId('queued-cat-3').textContent).toContain('Cat');
    expect(screen.getByTestId('queued-ada-1').textContent).toContain('Ada (you)');

    emit(handQueue('bob-2'));
    expect(screen.queryByTestId('hand-cat-3')).toBeNull();
    expect(screen.getByTestId('hand-bob-2').textContent).toBe('1');
    expect(queued().map((li) => li.dataset.testid)).toEqual(['queued-bob-2']);
  });

  it('shows the queue the snapshot brought, names falling back to the identity', () => {
    renderRoom(snapshot({ features: features({ hands: [raisedHand('gone-9'), raisedHand('bob-2')] }) }));
    openPeople();
    expect(screen.getByTestId('queued-gone-9').textContent).toContain('gone-9');
    expect(screen.getByTestId('hand-bob-2').textContent).toBe('2');
  });

  it("lets a host lower anyone's hand (their own with lower_hand)", async () => {
    renderRoom();
    openPeople();
    emit(handQueue('bob-2', 'ada-1'));
    fireEvent.click(screen.getByTestId('lower-hand-bob-2'));
    expect(service.featureRequest).toHaveBeenCalledWith({ type: 'lower_hand_of', identity: 'bob-2' });
    fireEvent.click(screen.getByTestId('lower-hand-ada-1'));
    expect(service.featureRequest).toHaveBeenLastCalledWith({ type: 'lower_hand' });
    await waitFor(() => expect(screen.getByTestId<HTMLButtonElement>('lower-hand-bob-2').disabled).toBe(false));

    emit(handQueue());
    expect(screen.getByTestId('hand-queue').textContent).toContain('No hands raised');
    expect(screen.queryByTestId('hand-bob-2')).toBeNull();
  });

  it('shows no Lower buttons to someone who is not a host', () => {
    renderRoom(snapshot({ you: participant('ada-1', 'Ada', { you: true, host: false }) }));
    openPeople();
    emit(handQueue('bob-2', 'ada-1'));
    expect(queued()).toHaveLength(2);
    expect(screen.queryByTestId('lower-hand-bob-2')).toBeNull();
    expect(screen.queryByTestId('lower-hand-ada-1')).toBeNull();
  });

  it('says in a toast why a request was refused, and changes nothing', async () => {
    vi.mocked(service.featureRequest).mockRejectedValueOnce(new AppError('refused', 'Hands are closed in this room.'));
    renderRoom();
    fireEvent.click(screen.getByTestId('toggle-hand'));
    const toast = await screen.findByTestId('toast');
    expect(toast.textContent).toContain("Couldn't raise your hand: Hands are closed in this room.");
    expect(screen.getByTestId<HTMLButtonElement>('toggle-hand').disabled).toBe(false);
    expect(screen.getByTestId('toggle-hand').textContent).toBe('Raise hand');

    openPeople();
    emit(handQueue('bob-2'));
    vi.mocked(service.featureRequest).mockRejectedValueOnce(new AppError('notInRoom', 'You are not in a room.'));
    fireEvent.click(screen.getByTestId('lower-hand-bob-2'));
    await waitFor(() =>
      expect(screen.getAllByTestId('toast').some((t) => t.textContent?.includes('You are not in a room.'))).toBe(true),
    );
    expect(screen.getByTestId('queued-bob-2')).toBeTruthy();
  });
});

describe('presence', () => {
  it('sends the chosen presence and shows what the relay says', async () => {
    renderRoom();
    const select = screen.getByTestId<HTMLSelectElement>('presence');
    expect(select.value).toBe('active');
    fireEvent.change(select, { target: { value: 'on_break' } });
    expect(service.featureRequest).toHaveBeenCalledWith({ type: 'set_presence', presence: 'on_break' });
    expect(select.value).toBe('on_break');
    await waitFor(() => expect(select.disabled).toBe(false));
    emit({ type: 'participantUpdated', participant: participant('ada-1', 'Ada', { you: true, host: true, presence: 'on_break' }) });
    expect(select.value).toBe('on_break');
  });

  it('puts "Away" and "On a break" on the person rows', () => {
    renderRoom();
    openPeople();
    expect(screen.queryByTestId('presence-bob-2')).toBeNull();
    emit({ type: 'participantUpdated', participant: participant('bob-2', 'Bob', { joinedAt: 2, presence: 'away' }) });
    expect(within(screen.getByTestId('person-bob-2')).getByTestId('presence-bob-2').textContent).toBe('Away');
    emit({ type: 'participantUpdated', participant: participant('bob-2', 'Bob', { joinedAt: 2, presence: 'on_break' }) });
    expect(screen.getByTestId('presence-bob-2').textContent).toBe('On a break');
  });

  it('says why a presence change failed and shows the presence as it was', async () => {
    vi.mocked(service.featureRequest).mockRejectedValueOnce(new AppError('timeout', 'The relay did not answer.'));
    renderRoom();
    const select = screen.getByTestId<HTMLSelectElement>('presence');
    fireEvent.change(select, { target: { value: 'away' } });
    expect((await screen.findByTestId('toast')).textContent).toContain('The relay did not answer.');
    expect(select.value).toBe('active');
  });
});

describe('microphone settings', () => {
  const realMic = (extra: Partial<Profile> = {}) =>
    profileOf(settings({ microphone: { kind: 'microphone', name: 'alsa_input.usb-headset' }, ...extra }));

  function renderWithProfile(profile: Profile) {
    const onNoiseSuppression = vi.fn();
    render(
      <ToastProvider>
        <RoomScreen
          snapshot={snapshot()}
          invite="K7QX-29FD@192.168.1.20:7450"
          profile={profile}
          onNoiseSuppression={onNoiseSuppression}
          onExit={() => {}}
        />
      </ToastProvider>,
    );
    return onNoiseSuppression;
  }

  function openMicSettings() {
    const button = screen.getByRole('button', { name: 'Microphone settings' });
    expect(button.getAttribute('aria-expanded')).toBe('false');
    fireEvent.click(button);
    expect(button.getAttribute('aria-expanded')).toBe('true');
    const panel = screen.getByRole('dialog', { name: 'Microphone settings' });
    return within(panel).getByRole<HTMLInputElement>('switch', { name: 'Noise suppression' });
  }

  it('switch noise suppression beside Mute, as the profile has it, and tell the app', async () => {
    const onNoiseSuppression = renderWithProfile(realMic({ noiseSuppression: false }));
    const toggle = openMicSettings();
    expect(toggle.checked).toBe(false);
    expect(toggle.disabled).toBe(false);
    fireEvent.click(toggle);
    expect(service.setNoiseSuppression).toHaveBeenCalledWith(true);
    expect(toggle.checked).toBe(true);
    await waitFor(() => expect(onNoiseSuppression).toHaveBeenCalledWith(true));
    // The panel closes like the others, and keeps the choice.
    fireEvent.keyDown(window, { key: 'Escape' });
    expect(screen.queryByTestId('mic-settings-panel')).toBeNull();
    expect(openMicSettings().checked).toBe(true);
  });

  it('cannot be switched for the test tone, and say it applies to a real microphone', () => {
    renderWithProfile(profileOf(settings({ microphone: { kind: 'tone' } })));
    const toggle = openMicSettings();
    expect(toggle.checked).toBe(true);
    expect(toggle.disabled).toBe(true);
    expect(screen.getByTestId('room-noise-suppression-hint').textContent).toContain('real microphone');
  });

  it('say in a toast why it could not be switched, and show it as it was', async () => {
    vi.mocked(service.setNoiseSuppression).mockRejectedValueOnce(new AppError('internal', 'The audio worker is gone.'));
    const onNoiseSuppression = renderWithProfile(realMic());
    const toggle = openMicSettings();
    fireEvent.click(toggle);
    expect((await screen.findByTestId('toast')).textContent).toContain(
      "Couldn't turn off noise suppression: The audio worker is gone.",
    );
    expect(toggle.checked).toBe(true);
    expect(onNoiseSuppression).not.toHaveBeenCalled();
  });
});

describe('room feature seam', () => {
  const syncs = () =>
    vi
      .mocked(service.featureRequest)
      .mock.calls.map(([request]) => request)
      .filter((request) => request.type === 'board_sync');

  it("sends the features' sync requests once the room is up, and again after a rejoin, keeping what they held", async () => {
    renderRoom();
    await waitFor(() => expect(syncs()).toEqual([{ type: 'board_sync', board: null, since: null }]));
    emit({
      type: 'feature',
      event: {
        type: 'board_snapshot',
        board: 'b1',
        seq: 4,
        access: { everyone: false, drawers: [] },
        part: 0,
        last: true,
        pages: [{ id: 'page-1', objects: [] }],
      },
    });

    // The rejoin the app made by itself ...
    emit({ type: 'resynced', snapshot: snapshot() });
    await waitFor(() => expect(syncs()).toHaveLength(2));
    expect(syncs()[1]).toEqual({ type: 'board_sync', board: 'b1', since: 4 });

    // ... and the one the user asked for, after the connection was lost.
    vi.mocked(service.joinRoom).mockResolvedValueOnce(snapshot());
    emit({ type: 'connection', state: 'lost', message: 'The relay went away.' });
    fireEvent.click(screen.getByTestId('rejoin'));
    await waitFor(() => expect(syncs()).toHaveLength(3));
    expect(syncs()[2]).toEqual({ type: 'board_sync', board: 'b1', since: 4 });
  });

  it("shows a feature's stage large, beside the cameras, from its toolbar control", () => {
    // (The test DOM has no 2D canvas to draw the whiteboard on.)
    vi.spyOn(HTMLCanvasElement.prototype, 'getContext').mockReturnValue(null);
    renderRoom();
    expect(screen.getByTestId('tiles').className).toBe('grid');
    fireEvent.click(screen.getByTestId('board-open'));
    expect(screen.getByTestId('board-stage')).toBeTruthy();
    expect(screen.getByTestId('tiles').className).toBe('strip');
    expect(within(screen.getByTestId('tiles')).getByTestId('tile-self')).toBeTruthy();
    fireEvent.click(screen.getByTestId('board-open'));
    expect(screen.queryByTestId('board-stage')).toBeNull();
  });
});

describe('connection bars', () => {
  const bars = (tile: string) => within(screen.getByTestId(tile)).queryByTestId('link-quality');
  const three = () =>
    snapshot({
      participants: [participant('bob-2', 'Bob', { joinedAt: 2 }), participant('cat-3', 'Cat Shaw', { joinedAt: 3 })],
    });

  it("show on the tile of someone whose media reaches us with loss, named and explained", () => {
    renderRoom(three());
    emitLinks(link('bob-2', 'poor', { lossPercent: 12, badFramesPercent: 30 }), link('cat-3', 'good'));
    const bob = bars('tile-bob-2');
    expect(bob).not.toBeNull();
    expect(within(screen.getByTestId('tile-bob-2')).getByRole('img', { name: 'Poor connection' })).toBe(bob);
    expect(bob?.getAttribute('data-quality')).toBe('poor');
    expect(bob?.className).toContain('link-bars--poor');
    expect(bob?.getAttribute('title')).toBe(
      "Poor connection: 12% of Bob's audio and video is lost on the way to you; 30% of video frames could not be shown.",
    );
    // Good, unknown, and our own while someone else is fine: clean tiles.
    expect(bars('tile-cat-3')).toBeNull();
    expect(bars('tile-self')).toBeNull();

    emitLinks(link('cat-3', 'fair', { lossPercent: 3, badFramesPercent: 0 }));
    expect(bars('tile-bob-2')).toBeNull();
    const cat = within(screen.getByTestId('tile-cat-3')).getByRole('img', { name: 'Fair connection' });
    expect(cat.getAttribute('data-quality')).toBe('fair');
    expect(cat.getAttribute('title')).toBe("Fair connection: 3% of Cat Shaw's audio and video is lost on the way to you.");
    // Only one other judged: not enough to blame our own connection.
    expect(bars('tile-self')).toBeNull();

    emitLinks();
    expect(screen.queryByTestId('link-quality')).toBeNull();
  });

  it('show on our own tile when everyone else reaches us badly, not while one reaches us well', () => {
    renderRoom(three());
    emitLinks(link('bob-2', 'poor'), link('cat-3', 'fair'));
    const own = within(screen.getByTestId('tile-self')).getByRole('img', { name: 'Poor connection' });
    expect(own.getAttribute('title')).toBe("Your connection seems poor: everyone's media reaches you with loss.");
    expect(bars('tile-bob-2')?.getAttribute('data-quality')).toBe('poor');
    expect(bars('tile-cat-3')?.getAttribute('data-quality')).toBe('fair');

    emitLinks(link('bob-2', 'fair'), link('cat-3', 'fair'));
    expect(bars('tile-self')?.getAttribute('data-quality')).toBe('fair');

    emitLinks(link('bob-2', 'poor'), link('cat-3', 'good'));
    expect(bars('tile-self')).toBeNull();
    expect(bars('tile-bob-2')).not.toBeNull();
  });

  it('stay on the tiles in the strip beside a stage', () => {
    vi.spyOn(HTMLCanvasElement.prototype, 'getContext').mockReturnValue(null);
    renderRoom(three());
    fireEvent.click(screen.getByTestId('board-open'));
    emitLinks(link('bob-2', 'poor'), link('cat-3', 'poor'));
    const strip = screen.getByTestId('tiles');
    expect(strip.className).toBe('strip');
    expect(within(strip).getAllByTestId('link-quality')).toHaveLength(3);
  });

  it("isolate a name that overrides the direction in the tooltip", () => {
    renderRoom(snapshot({ participants: [participant('bob-2', '\u202EboB', { joinedAt: 2 })] }));
    emitLinks(link('bob-2', 'poor', { lossPercent: 12, badFramesPercent: 0 }));
    expect(bars('tile-bob-2')?.getAttribute('title')).toBe(
      'Poor connection: 12% of \u2068\u202EboB\u2069\'s audio and video is lost on the way to you.',
    );
  });
});

describe('the gallery', () => {
  const crowd = (n: number) =>
    Array.from({ length: n }, (_, i) => participant(`p${String(i + 2).padStart(2, '0')}`, `P${i + 2}`, { joinedAt: i + 2 }));
  const shownTiles = () =>
    within(screen.getByTestId('tiles'))
      .getAllByRole('figure')
      .map((el) => el.getAttribute('data-identity'));

  it('shows nine tiles a page, us first, with a pager that clamps when people leave', () => {
    const others = crowd(12);
    renderRoom(snapshot({ participants: others }));
    expect(shownTiles()).toEqual(['ada-1', ...others.slice(0, 8).map((p) => p.identity)]);
    expect(screen.getByTestId('grid-page').textContent).toBe('Page 1 of 2');
    expect(screen.getByRole('button', { name: 'Previous page' })).toHaveProperty('disabled', true);

    // A speaker on page 2 stays there.
    act(() => handlers.media.forEach((h) => h(mediaStatus({ levels: [{ key: 'p13', level: 0.5 }] }))));
    fireEvent.click(screen.getByRole('button', { name: 'Next page' }));
    expect(shownTiles()).toEqual(others.slice(8).map((p) => p.identity));
    expect(screen.getByTestId('grid-page').textContent).toBe('Page 2 of 2');
    expect(screen.getByTestId('grid-next')).toHaveProperty('disabled', true);
    expect(screen.getByTestId('tile-p13').getAttribute('data-speaking')).toBe('true');

    // Four leave: one page remains, and it is shown.
    for (const p of others.slice(0, 4)) emit({ type: 'participantLeft', identity: p.identity, reason: 'left' });
    expect(screen.queryByTestId('grid-pager')).toBeNull();
    expect(shownTiles()).toEqual(['ada-1', ...others.slice(4).map((p) => p.identity)]);
    // Someone joins again: page 1 still.
    emit({ type: 'participantJoined', participant: participant('p99', 'P99', { joinedAt: 99 }) });
    expect(screen.getByTestId('grid-page').textContent).toBe('Page 1 of 2');
  });

  it('leaves the strip beside a large view whole', () => {
    vi.spyOn(HTMLCanvasElement.prototype, 'getContext').mockReturnValue(null);
    renderRoom(snapshot({ participants: crowd(12) }));
    fireEvent.click(screen.getByTestId('board-open'));
    expect(shownTiles()).toHaveLength(13);
    expect(screen.queryByTestId('grid-pager')).toBeNull();
  });
});

describe('who speaks', () => {
  const three = () =>
    snapshot({
      participants: [participant('bob-2', 'Bob', { joinedAt: 2 }), participant('cat-3', 'Cat', { joinedAt: 3 })],
    });
  const levels = (...levels: { key: string; level: number }[]) =>
    act(() => handlers.media.forEach((h) => h(mediaStatus({ levels }))));
  const tile = (testId: string) => {
    const el = screen.getByTestId(testId);
    return { active: el.getAttribute('data-speaking'), talking: el.getAttribute('data-talking') };
  };

  it("is worked out from the levels until the relay's first speakers event, then the relay decides", () => {
    renderRoom(three());
    levels({ key: 'bob-2', level: 0.5 });
    expect(tile('tile-bob-2')).toEqual({ active: 'true', talking: 'false' });

    // The relay names us (by our identity) and Cat speaking, us the active speaker.
    emit({ type: 'speakers', active: 'ada-1', speaking: ['ada-1', 'cat-3'] });
    expect(tile('tile-self')).toEqual({ active: 'true', talking: 'true' });
    expect(tile('tile-cat-3')).toEqual({ active: 'false', talking: 'true' });
    expect(tile('tile-bob-2')).toEqual({ active: 'false', talking: 'false' });
    expect(screen.getByTestId('tile-cat-3').className).toContain('tile--talking');
    expect(screen.getByTestId('tile-cat-3').className).not.toContain('tile--speaking');

    // Levels no longer move the highlight.
    levels({ key: 'bob-2', level: 0.9 }, { key: 'self', level: 0 });
    expect(tile('tile-bob-2')).toEqual({ active: 'false', talking: 'false' });
    expect(tile('tile-self').active).toBe('true');

    // The people panel shows the same.
    openPeople();
    const avatar = (row: string) => screen.getByTestId(row).querySelector('.avatar');
    expect(avatar('person-self')?.className).toContain('avatar--speaking');
    expect(avatar('person-cat-3')?.className).toContain('avatar--talking');
    expect(avatar('person-cat-3')?.className).not.toContain('avatar--speaking');
    expect(avatar('person-bob-2')?.className).not.toContain('avatar--talking');
  });

  it('keeps what the relay said last through a rejoin, until it says something else', () => {
    renderRoom(three());
    emit({ type: 'speakers', active: 'bob-2', speaking: ['bob-2'] });
    emit({ type: 'connection', state: 'reconnecting', message: null });
    emit({ type: 'resynced', snapshot: three() });
    emit({ type: 'connection', state: 'connected', message: null });
    levels({ key: 'cat-3', level: 0.9 });
    expect(tile('tile-bob-2')).toEqual({ active: 'true', talking: 'true' });
    expect(tile('tile-cat-3')).toEqual({ active: 'false', talking: 'false' });

    // Bob pauses: still the active speaker, no longer marked speaking.
    emit({ type: 'speakers', active: 'bob-2', speaking: [] });
    expect(tile('tile-bob-2')).toEqual({ active: 'true', talking: 'false' });
    emit({ type: 'speakers', active: null, speaking: [] });
    expect(screen.getByTestId('tiles').querySelector('[data-speaking="true"], [data-talking="true"]')).toBeNull();
  });
});

describe("the host's upload", () => {
  const upload = (bitsPerSecond: number, heldSmall = 0, paused = 0, budgetBitsPerSecond = 25_000_000) => ({
    bitsPerSecond,
    budgetBitsPerSecond,
    heldSmall,
    paused,
  });
  const hosting = () => snapshot({ hosting: invite('192.168.1.20:7450', 'K7QX-29FD') });
  /** Lets `ms` pass, and the answers asked for in it come. */
  const pass = (ms: number) => act(() => vi.advanceTimersByTimeAsync(ms));

  it('is asked for now and every 3 s while hosting, and shown in the subtitle', async () => {
    vi.useFakeTimers();
    vi.mocked(service.hostUpload)
      .mockResolvedValueOnce(upload(12_345_678))
      .mockResolvedValueOnce(upload(24_600_000, 3, 1))
      .mockResolvedValueOnce(upload(3_000_000, 0, 0, 0));
    renderRoom(hosting());
    await pass(0);
    expect(service.hostUpload).toHaveBeenCalledTimes(1);
    expect(screen.getByTestId('host-upload-rate').textContent).toBe('Your upload: 12.3 of 25 Mbit/s');
    expect(screen.queryByTestId('host-upload-note')).toBeNull();
    expect(screen.getByTestId('host-upload').closest('.room__subtitle')?.textContent).toBe(
      '2 people · you are hosting · Your upload: 12.3 of 25 Mbit/s',
    );

    await pass(2999);
    expect(service.hostUpload).toHaveBeenCalledTimes(1);
    await pass(1);
    expect(service.hostUpload).toHaveBeenCalledTimes(2);
    expect(screen.getByTestId('host-upload-rate').textContent).toBe('Your upload: 24.6 of 25 Mbit/s');
    const note = screen.getByTestId('host-upload-note');
    expect(note.textContent).toBe('video turned down to stay within your upload');
    expect(note.getAttribute('title')).toContain(
      "3 video tiles on the others' screens are shown at lower quality and 1 is paused",
    );

    await pass(3000);
    expect(screen.getByTestId('host-upload-rate').textContent).toBe('Your upload: 3.0 Mbit/s');
    expect(screen.queryByTestId('host-upload-note')).toBeNull();
  });

  it('shows nothing new when an ask fails, logs it, and asks again at the next tick', async () => {
    vi.useFakeTimers();
    const debug = vi.spyOn(console, 'debug').mockImplementation(() => {});
    vi.mocked(service.hostUpload)
      .mockRejectedValueOnce(new AppError('hostingFailed', "Cannot read this room's upload: refused"))
      .mockResolvedValueOnce(upload(5_000_000))
      .mockRejectedValueOnce(new AppError('hostingFailed', "Cannot read this room's upload: refused"));
    renderRoom(hosting());
    await pass(0);
    expect(screen.queryByTestId('host-upload')).toBeNull();
    expect(debug).toHaveBeenCalledWith('host_upload failed', expect.any(AppError));
    expect(screen.queryByTestId('toast')).toBeNull();

    await pass(3000);
    expect(screen.getByTestId('host-upload-rate').textContent).toBe('Your upload: 5.0 of 25 Mbit/s');
    await pass(3000);
    expect(debug).toHaveBeenCalledTimes(2);
    expect(screen.getByTestId('host-upload-rate').textContent).toBe('Your upload: 5.0 of 25 Mbit/s');
    expect(screen.queryByTestId('toast')).toBeNull();
  });

  it('waits for a slow answer rather than asking over it', async () => {
    vi.useFakeTimers();
    let answer: (u: ReturnType<typeof upload>) => void = () => {};
    vi.mocked(service.hostUpload).mockReturnValueOnce(new Promise((resolve) => (answer = resolve)));
    renderRoom(hosting());
    await pass(7000);
    expect(service.hostUpload).toHaveBeenCalledTimes(1);
    answer(upload(2_000_000));
    await pass(0);
    expect(screen.getByTestId('host-upload-rate').textContent).toBe('Your upload: 2.0 of 25 Mbit/s');
    await pass(2000);
    expect(service.hostUpload).toHaveBeenCalledTimes(2);
  });

  it('is not asked for when this app hosts nothing, and no longer once the room screen is gone', async () => {
    vi.useFakeTimers();
    renderRoom();
    await pass(10_000);
    expect(service.hostUpload).not.toHaveBeenCalled();
    cleanup();

    vi.mocked(service.hostUpload).mockResolvedValue(upload(1_000_000));
    renderRoom(hosting());
    await pass(0);
    expect(service.hostUpload).toHaveBeenCalledTimes(1);
    cleanup();
    await pass(10_000);
    expect(service.hostUpload).toHaveBeenCalledTimes(1);
  });
});
