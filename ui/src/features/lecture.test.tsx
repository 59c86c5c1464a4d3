// The lecture in the room screen, through the feature seam: the header's badges and
// clock, a host's controls and "let speak", a student's locked microphone, the mode a
// host chose when starting the room.
import { act, cleanup, fireEvent, render, screen, waitFor, within } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ToastProvider } from '../components/Toasts';
import { RoomScreen } from '../screens/RoomScreen';
import * as service from '../services/studyhall';
import { AppError, type LectureState, type RoomEvent, type RoomMode, type RoomSnapshot } from '../services/studyhall';
import { features, handlers, lectureState, media, participant, raisedHand, resetHandlers, snapshot } from '../test/serviceMock';

vi.mock('../services/studyhall', async (importOriginal) =>
  (await import('../test/serviceMock')).mockService(importOriginal),
);

afterEach(() => {
  cleanup();
  resetHandlers();
  vi.useRealTimers();
});

const T0 = 1_795_000_000_000;
const LECTURE = lectureState({ mode: 'lecture', started_at: T0 });

/** Ada hosts; Bob and Cat are students. */
const hosting = (lecture: LectureState = LECTURE, extra: Partial<RoomSnapshot> = {}) =>
  snapshot({
    participants: [participant('bob-2', 'Bob', { joinedAt: 2 }), participant('cat-3', 'Cat', { joinedAt: 3 })],
    features: features({ lecture }),
    ...extra,
  });

/** Ada is a student in Bob's lecture, her microphone and camera off. */
const student = (lecture: LectureState = LECTURE) =>
  snapshot({
    you: participant('ada-1', 'Ada', { you: true, media: media({ mic: false, camera: false }) }),
    participants: [participant('bob-2', 'Bob', { joinedAt: 2, host: true })],
    features: features({ lecture }),
  });

function renderRoom(snap: RoomSnapshot, hostMode: RoomMode | null = null) {
  render(
    <ToastProvider>
      <RoomScreen snapshot={snap} invite="K7QX-29FD@192.168.1.20:7450" hostMode={hostMode} onExit={() => {}} />
    </ToastProvider>,
  );
}

function emit(event: RoomEvent) {
  act(() => handlers.room.forEach((h) => h(event)));
}

const lectureEvent = (lecture: Partial<LectureState>, by = 'bob-2'): RoomEvent => ({
  type: 'feature',
  event: { type: 'lecture', lecture: lectureState({ mode: 'lecture', started_at: T0, ...lecture }), by },
});

const id = <E extends HTMLElement = HTMLElement>(testId: string) => screen.getByTestId<E>(testId);
const requests = () => vi.mocked(service.featureRequest).mock.calls.map(([r]) => r);
const toasts = () => screen.queryAllByTestId('toast').map((t) => t.textContent);

describe('the header', () => {
  it('shows "Lecture" and the time since it started, ticking on the relay clock', () => {
    vi.useFakeTimers({ toFake: ['Date', 'setInterval', 'clearInterval', 'setTimeout', 'clearTimeout'] });
    vi.setSystemTime(T0 + 65_000);
    // The relay is 2 s ahead of this machine.
    renderRoom(hosting(LECTURE, { clockOffsetMs: 2_000 }));
    expect(id('lecture-badge').textContent).toBe('Lecture');
    const clock = id('lecture-clock');
    expect(clock.dataset.startedAt).toBe(String(T0));
    expect(clock.textContent).toBe('01:07');
    act(() => {
      vi.advanceTimersByTime(1_000);
    });
    expect(clock.textContent).toBe('01:08');
    act(() => {
      vi.advanceTimersByTime(3_600_000);
    });
    expect(clock.textContent).toBe('1:01:08');
    expect(screen.queryByTestId('room-locked-badge')).toBeNull();
  });

  it('shows nothing for a study room, and "Locked" while the room takes no new people', () => {
    renderRoom(hosting(lectureState()));
    expect(screen.queryByTestId('lecture-header')).toBeNull();
    emit(lectureEvent({ mode: 'study', started_at: null, locked: true }, 'ada-1'));
    expect(id('room-locked-badge').textContent).toBe('Locked');
    expect(screen.queryByTestId('lecture-badge')).toBeNull();
  });
});

describe("a host's controls", () => {
  it('switch the mode, let everyone speak, mute everyone and lock the room', async () => {
    renderRoom(hosting(lectureState()));
    fireEvent.click(id('toggle-people'));
    const controls = id('room-controls');
    expect(id('room-mode').dataset.mode).toBe('study');
    const allow = id<HTMLButtonElement>('allow-everyone');
    expect(allow.disabled).toBe(true);

    fireEvent.click(id('lecture-mode-toggle'));
    expect(service.featureRequest).toHaveBeenCalledWith({ type: 'set_room_mode', mode: 'lecture' });
    emit(lectureEvent({}, 'ada-1'));
    expect(id('lecture-mode-toggle').textContent).toBe('Back to study room');
    await waitFor(() => expect(id<HTMLButtonElement>('allow-everyone').disabled).toBe(false));

    fireEvent.click(id('allow-everyone'));
    expect(service.featureRequest).toHaveBeenCalledWith({ type: 'allow_speaking', identity: null, allowed: true });
    emit(lectureEvent({ everyone_speaks: true }, 'ada-1'));
    expect(id('allow-everyone').textContent).toBe('Stop everyone speaking');
    expect(id('allow-everyone').getAttribute('aria-pressed')).toBe('true');

    fireEvent.click(id('mute-all'));
    expect(service.featureRequest).toHaveBeenCalledWith({ type: 'mute_all' });
    await waitFor(() => expect(toasts()).toContain('Everyone but you and the presenters is muted.×'));

    fireEvent.click(id('lock-room'));
    expect(service.featureRequest).toHaveBeenCalledWith({ type: 'lock_room', locked: true });
    emit(lectureEvent({ everyone_speaks: true, locked: true }, 'ada-1'));
    expect(id('lock-room').textContent).toBe('Unlock room');
    expect(within(controls).getByTestId('lock-room').getAttribute('aria-pressed')).toBe('true');
    // The host's own changes bring no toast of the change.
    expect(toasts().filter((t) => t?.includes('made this room'))).toEqual([]);
  });

  it('say in a toast why a change failed', async () => {
    vi.mocked(service.featureRequest).mockImplementation((r) =>
      r.type === 'lock_room' ? Promise.reject(new AppError('refused', 'the store is down')) : Promise.resolve(null),
    );
    renderRoom(hosting());
    fireEvent.click(id('toggle-people'));
    fireEvent.click(id('lock-room'));
    await waitFor(() => expect(toasts()).toContain("Couldn't lock the room: the store is down×"));
  });

  it('are not there for a student', () => {
    renderRoom(student());
    fireEvent.click(id('toggle-people'));
    expect(screen.queryByTestId('room-controls')).toBeNull();
    expect(screen.queryByTestId('let-speak-bob-2')).toBeNull();
  });
});

describe('let speak', () => {
  it('is on each raised hand and each student: it lets them speak and lowers the hand; "Stop" takes it back', async () => {
    renderRoom(hosting());
    fireEvent.click(id('toggle-people'));
    emit({ type: 'feature', event: { type: 'hand_queue', hands: [raisedHand('cat-3'), raisedHand('bob-2')], by: 'bob-2' } });
    const queue = id('hand-queue');
    expect(within(id('person-bob-2')).getByTestId('let-speak-bob-2').textContent).toBe('Let speak');
    expect(within(id('person-self')).queryByTestId('let-speak-ada-1')).toBeNull();

    fireEvent.click(within(queue).getByTestId('let-speak-cat-3'));
    expect(service.featureRequest).toHaveBeenCalledWith({ type: 'allow_speaking', identity: 'cat-3', allowed: true });
    await waitFor(() => expect(service.featureRequest).toHaveBeenCalledWith({ type: 'lower_hand_of', identity: 'cat-3' }));

    emit(lectureEvent({ speakers: ['cat-3'] }, 'ada-1'));
    const stop = within(id('person-cat-3')).getByTestId('let-speak-cat-3');
    expect(stop.textContent).toBe('Stop');
    expect(within(id('person-cat-3')).getByTestId('may-speak').textContent).toBe('May speak');
    fireEvent.click(stop);
    expect(service.featureRequest).toHaveBeenCalledWith({ type: 'allow_speaking', identity: 'cat-3', allowed: false });
    await waitFor(() => expect(stop.hasAttribute('disabled')).toBe(false));
    // Taking it back leaves hands alone.
    expect(requests().filter((r) => r.type === 'lower_hand_of')).toHaveLength(1);
  });

  it('is not offered in a study room, nor while everyone speaks', () => {
    renderRoom(hosting(lectureState()));
    fireEvent.click(id('toggle-people'));
    expect(screen.queryByTestId('let-speak-bob-2')).toBeNull();
    emit(lectureEvent({ everyone_speaks: true }, 'ada-1'));
    expect(screen.queryByTestId('let-speak-bob-2')).toBeNull();
  });

  it('goes with "Lower all" on the queue', async () => {
    renderRoom(hosting());
    fireEvent.click(id('toggle-people'));
    expect(screen.queryByTestId('lower-all-hands')).toBeNull();
    emit({ type: 'feature', event: { type: 'hand_queue', hands: [raisedHand('cat-3'), raisedHand('bob-2')], by: 'bob-2' } });
    fireEvent.click(id('lower-all-hands'));
    expect(service.featureRequest).toHaveBeenCalledWith({ type: 'lower_all_hands' });
    await waitFor(() => expect(id<HTMLButtonElement>('lower-all-hands').disabled).toBe(false));
  });
});

describe("a student's microphone and camera in a lecture", () => {
  it('stay off, saying why, until the host lets them speak; then "You may speak now"', async () => {
    vi.mocked(service.setMedia).mockResolvedValue(media({ mic: true, camera: false }));
    renderRoom(student());
    const mic = id<HTMLButtonElement>('toggle-mic');
    const camera = id<HTMLButtonElement>('toggle-camera');
    const share = id<HTMLButtonElement>('toggle-screen');
    expect(mic.disabled && camera.disabled && share.disabled).toBe(true);
    expect(mic.title).toBe('Raise your hand to speak');
    expect(camera.title).toBe('Raise your hand to speak');
    expect(share.title).toMatch(/only presenters and the host share/);
    fireEvent.click(mic);
    expect(service.setMedia).not.toHaveBeenCalled();

    emit(lectureEvent({ speakers: ['ada-1'] }));
    expect(mic.disabled).toBe(false);
    expect(share.disabled).toBe(true);
    await waitFor(() => expect(toasts()).toContain('You may speak now.×'));
    fireEvent.click(mic);
    expect(service.setMedia).toHaveBeenCalledWith({ mic: true, camera: null, screen: null });
  });

  it("show the relay's reason when it refuses anyway", async () => {
    vi.mocked(service.setMedia).mockRejectedValue(
      new AppError('refused', 'this room is a lecture: the microphone stays off until the host lets you speak (raise your hand)'),
    );
    renderRoom(student(lectureState({ mode: 'lecture', started_at: T0, everyone_speaks: true })));
    fireEvent.click(id('toggle-mic'));
    await waitFor(() =>
      expect(toasts()).toContain(
        "Couldn't turn on microphone: this room is a lecture: the microphone stays off until the host lets you speak (raise your hand)×",
      ),
    );
  });

  it('are free in a study room; going off never waits for the host', async () => {
    vi.mocked(service.setMedia).mockResolvedValue(media({ mic: false, camera: true }));
    renderRoom(student(lectureState()));
    expect(id<HTMLButtonElement>('toggle-mic').disabled).toBe(false);
    expect(id<HTMLButtonElement>('toggle-screen').disabled).toBe(false);
    emit({ type: 'participantUpdated', participant: participant('ada-1', 'Ada', { you: true, media: media() }) });
    // The host let everyone speak, then made it a lecture: both stay free to go off.
    emit(lectureEvent({ everyone_speaks: true }));
    expect(id<HTMLButtonElement>('toggle-mic').disabled).toBe(false);
    fireEvent.click(id('toggle-mic'));
    expect(service.setMedia).toHaveBeenCalledWith({ mic: false, camera: null, screen: null });
    await waitFor(() => expect(id('toggle-mic').dataset.on).toBe('false'));
    expect(id<HTMLButtonElement>('toggle-camera').disabled).toBe(false);
  });
});

describe('the mode chosen when starting the room', () => {
  it('is asked for once by the host when the room is not run so', async () => {
    renderRoom(hosting(lectureState()), 'lecture');
    await waitFor(() => expect(requests()).toContainEqual({ type: 'set_room_mode', mode: 'lecture' }));
    expect(requests().filter((r) => r.type === 'set_room_mode')).toHaveLength(1);
  });

  it('is not asked for when the room is run so already, nor by someone who is not the host', async () => {
    renderRoom(hosting(LECTURE), 'lecture');
    cleanup();
    renderRoom(student(lectureState()), 'lecture');
    await act(async () => {});
    expect(requests().filter((r) => r.type === 'set_room_mode')).toEqual([]);
  });
});
