// Reactions: the state's rules, and in the room screen the toolbar's emoji, the float on
// the sender's tile and a quiet word when the relay's rate is passed.
import { act, cleanup, fireEvent, render, screen, waitFor, within } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ToastProvider } from '../components/Toasts';
import { RoomScreen } from '../screens/RoomScreen';
import * as service from '../services/studyhall';
import { AppError, type FeatureEvent, type Reaction, type RoomEvent } from '../services/studyhall';
import { handlers, resetHandlers, snapshot } from '../test/serviceMock';
import { floating, REACTION_SHOW_MS, reactionsFromSnapshot, reactionsReducer } from './reactions';

vi.mock('../services/studyhall', async (importOriginal) =>
  (await import('../test/serviceMock')).mockService(importOriginal),
);

afterEach(() => {
  cleanup();
  resetHandlers();
  vi.useRealTimers();
});

const T0 = 1_795_000_000_000;
const reacted = (identity: string, reaction: Reaction): FeatureEvent => ({ type: 'reaction', identity, reaction });

describe('reactions state', () => {
  it('keeps each reaction for a few seconds, and only the newest few of one sender', () => {
    let state = reactionsFromSnapshot();
    state = reactionsReducer(state, reacted('bob-2', 'clap'), T0);
    state = reactionsReducer(state, reacted('cat-3', 'laugh'), T0 + 100);
    expect(floating(state, 'bob-2', T0 + 500).map((r) => r.reaction)).toEqual(['clap']);
    expect(floating(state, 'bob-2', T0 + REACTION_SHOW_MS)).toEqual([]);
    expect(floating(state, 'cat-3', T0 + REACTION_SHOW_MS)).toHaveLength(1);

    for (const [i, r] of (['party', 'question', 'thumbs_up', 'laugh'] as const).entries()) {
      state = reactionsReducer(state, reacted('bob-2', r), T0 + 200 + i);
    }
    expect(floating(state, 'bob-2', T0 + 300).map((r) => r.reaction)).toEqual(['question', 'thumbs_up', 'laugh']);
    // Those done by the next reaction go.
    state = reactionsReducer(state, reacted('dan-4', 'clap'), T0 + 10_000);
    expect(state.shown.map((r) => r.identity)).toEqual(['dan-4']);
    expect(reactionsReducer(state, { type: 'hand_queue', hands: [] })).toBe(state);
  });
});

function renderRoom() {
  render(
    <ToastProvider>
      <RoomScreen snapshot={snapshot()} invite="K7QX-29FD@192.168.1.20:7450" onExit={() => {}} />
    </ToastProvider>,
  );
}

function emit(event: RoomEvent) {
  act(() => handlers.room.forEach((h) => h(event)));
}

describe('reactions in the room', () => {
  it('are sent from the toolbar, five emoji', () => {
    renderRoom();
    expect(screen.queryByTestId('reactions-menu')).toBeNull();
    fireEvent.click(screen.getByTestId('react-button'));
    const menu = screen.getByTestId('reactions-menu');
    expect(within(menu).getAllByRole('button').map((b) => b.textContent)).toEqual(['👍', '👏', '😂', '❓', '🎉']);
    fireEvent.click(screen.getByTestId('react-clap'));
    expect(service.featureRequest).toHaveBeenCalledWith({ type: 'react', reaction: 'clap' });
    // It stays open for another; Escape closes it.
    fireEvent.keyDown(window, { key: 'Escape' });
    expect(screen.queryByTestId('reactions-menu')).toBeNull();
  });

  it("float on the sender's tile for a few seconds", () => {
    vi.useFakeTimers({ toFake: ['Date', 'setTimeout', 'clearTimeout', 'setInterval', 'clearInterval'] });
    vi.setSystemTime(T0);
    renderRoom();
    emit({ type: 'feature', event: reacted('bob-2', 'party') });
    const shown = within(screen.getByTestId('tile-bob-2')).getByTestId('tile-reaction');
    expect(shown.dataset.reaction).toBe('party');
    expect(shown.textContent).toBe('🎉');
    expect(within(screen.getByTestId('tile-self')).queryByTestId('tile-reaction')).toBeNull();

    act(() => {
      vi.advanceTimersByTime(1_000);
    });
    emit({ type: 'feature', event: reacted('bob-2', 'clap') });
    expect(within(screen.getByTestId('tile-bob-2')).getAllByTestId('tile-reaction')).toHaveLength(2);
    act(() => {
      vi.advanceTimersByTime(REACTION_SHOW_MS - 1_000);
    });
    expect(
      within(screen.getByTestId('tile-bob-2'))
        .getAllByTestId('tile-reaction')
        .map((r) => r.dataset.reaction),
    ).toEqual(['clap']);
    act(() => {
      vi.advanceTimersByTime(1_000);
    });
    expect(within(screen.getByTestId('tile-bob-2')).queryByTestId('tile-reaction')).toBeNull();
  });

  it('passing the rate is said quietly, other failures as errors', async () => {
    vi.mocked(service.featureRequest).mockImplementation((r) =>
      r.type === 'react'
        ? Promise.reject(new AppError('rateLimited', 'reactions_per_second: at most 2 a second (a burst of 5); try again in 300 ms'))
        : Promise.resolve(null),
    );
    renderRoom();
    fireEvent.click(screen.getByTestId('react-button'));
    fireEvent.click(screen.getByTestId('react-thumbs_up'));
    const toast = await screen.findByTestId('toast');
    expect(toast.textContent).toBe('Too many reactions at once: wait a moment.×');
    expect(toast.getAttribute('role')).toBe('status');

    vi.mocked(service.featureRequest).mockRejectedValueOnce(new AppError('notInRoom', 'Not in a room.'));
    fireEvent.click(screen.getByTestId('react-thumbs_up'));
    await waitFor(() => expect(screen.getByRole('alert').textContent).toBe("Couldn't send the reaction: Not in a room.×"));
  });
});
