import { describe, expect, it } from 'vitest';
import { roomFromSnapshot, roomReducer } from './room';
import type { ChatMessage, Participant, RaisedHand, RoomSnapshot } from '../services/types';
import { boardSummary, features } from '../test/fixtures';

function person(identity: string, extra: Partial<Participant> = {}): Participant {
  return {
    identity,
    name: identity.toUpperCase(),
    host: false,
    presenter: false,
    you: false,
    media: { mic: true, camera: true, screen: false },
    presence: 'active',
    joinedAt: identity.charCodeAt(0),
    ...extra,
  };
}

function msg(seq: number): ChatMessage {
  return { seq, from: 'a', name: 'A', text: `m${seq}`, ts: seq, clientMsgId: `c${seq}`, deleted: false, attachment: null };
}

function snapshot(
  parts: Pick<RoomSnapshot, 'you' | 'participants' | 'chat'> & Partial<RoomSnapshot>,
): RoomSnapshot {
  return {
    room: 'r',
    title: 'R',
    hosting: null,
    maxChatBytes: 4096,
    features: features(),
    clockOffsetMs: null,
    ...parts,
  };
}

function hand(identity: string): RaisedHand {
  return { identity, raised_at: identity.charCodeAt(0) };
}

describe('resynced after a rejoin', () => {
  it('replaces who is here and merges the chat, keeping pending messages', () => {
    const you = person('me', { you: true });
    let state = roomFromSnapshot(
      snapshot({ you, participants: [person('a'), person('b')], chat: { messages: [msg(1), msg(2)], hasMore: false } }),
    );
    state = roomReducer(state, {
      type: 'chat',
      action: { type: 'sending', clientMsgId: 'p1', text: 'still sending', now: 0 },
    });
    state = roomReducer(state, {
      type: 'event',
      event: {
        type: 'resynced',
        snapshot: snapshot({ you, participants: [person('b'), person('c')], chat: { messages: [msg(2), msg(3)], hasMore: true } }),
      },
    });
    expect(state.others.map((p) => p.identity)).toEqual(['b', 'c']);
    expect(state.chat.messages.map((m) => m.seq)).toEqual([1, 2, 3]);
    expect(state.chat.pending.map((p) => p.clientMsgId)).toEqual(['p1']);
  });
});

describe('room features', () => {
  const you = person('me', { you: true });
  const empty = { messages: [], hasMore: false };

  it('start from the snapshot', () => {
    const state = roomFromSnapshot(
      snapshot({ you, participants: [person('a')], chat: empty, features: features({ hands: [hand('a'), hand('me')] }) }),
    );
    expect(state.features.hands.queue.map((h) => h.identity)).toEqual(['a', 'me']);
  });

  it('change with feature events, and only then', () => {
    const before = roomFromSnapshot(snapshot({ you, participants: [person('a')], chat: empty }));
    const after = roomReducer(before, {
      type: 'event',
      event: { type: 'feature', event: { type: 'hand_queue', hands: [hand('a')], by: 'a' } },
    });
    expect(after.features.hands.queue).toEqual([hand('a')]);
    expect(after.others).toBe(before.others);
    const chatted = roomReducer(after, { type: 'event', event: { type: 'chatDeleted', seq: 1 } });
    expect(chatted.features).toBe(after.features);
  });

  it('come from the fresh snapshot after a rejoin', () => {
    let state = roomFromSnapshot(
      snapshot({ you, participants: [person('a')], chat: empty, features: features({ hands: [hand('a')] }) }),
    );
    state = roomReducer(state, {
      type: 'event',
      event: {
        type: 'resynced',
        snapshot: snapshot({ you, participants: [person('b')], chat: empty, features: features({ hands: [hand('b'), hand('me')] }) }),
      },
    });
    expect(state.features.hands.queue.map((h) => h.identity)).toEqual(['b', 'me']);
  });

  it('keep what they can across a rejoin (the whiteboard its board), by either way of rejoining', () => {
    let state = roomFromSnapshot(snapshot({ you, participants: [], chat: empty }));
    state = roomReducer(state, {
      type: 'event',
      event: {
        type: 'feature',
        event: {
          type: 'board_snapshot',
          board: 'b1',
          seq: 3,
          access: { everyone: false, drawers: [] },
          part: 0,
          last: true,
          pages: [{ id: 'page-1', objects: [] }],
        },
      },
    });
    const board = state.features.board.board;
    expect(board?.seq).toBe(3);
    const fresh = snapshot({ you, participants: [], chat: empty, features: features({ board: boardSummary({ id: 'b1', seq: 5 }) }) });
    const resynced = roomReducer(state, { type: 'event', event: { type: 'resynced', snapshot: fresh } });
    expect(resynced.features.board.board).toBe(board);
    expect(resynced.features.board.summary.seq).toBe(5);
    const rejoined = roomReducer(state, { type: 'snapshot', snapshot: fresh });
    expect(rejoined.features.board.board).toBe(board);
    // A first join has nothing to keep.
    expect(roomFromSnapshot(fresh).features.board.board).toBeNull();
  });
});
