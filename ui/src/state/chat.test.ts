import { describe, expect, it } from 'vitest';
import type { ChatMessage } from '../services/types';
import { chatFromPage, chatReducer, emptyChat, oldestSeq, type ChatState } from './chat';

function msg(seq: number, extra: Partial<ChatMessage> = {}): ChatMessage {
  return { seq, from: 'ada', name: 'Ada', text: `m${seq}`, ts: 1000 + seq, clientMsgId: `c${seq}`, deleted: false, attachment: null, ...extra };
}

const seqs = (s: ChatState) => s.messages.map((m) => m.seq);

describe('chatReducer', () => {
  it('starts from a page and prepends older pages without duplicates', () => {
    let s = chatFromPage({ messages: [msg(5), msg(6), msg(4, { deleted: true })], hasMore: true });
    expect(seqs(s)).toEqual([5, 6]);
    expect(oldestSeq(s)).toBe(5);
    s = chatReducer(s, { type: 'older', page: { messages: [msg(3), msg(5)], hasMore: false } });
    expect(seqs(s)).toEqual([3, 5, 6]);
    expect(s.hasMore).toBe(false);
  });

  it('shows an optimistic message until the ack replaces it', () => {
    let s = chatReducer(emptyChat, { type: 'sending', clientMsgId: 'x', text: 'hello', now: 1 });
    expect(s.pending).toEqual([expect.objectContaining({ clientMsgId: 'x', status: 'sending', text: 'hello' })]);
    s = chatReducer(s, { type: 'sent', message: msg(7, { clientMsgId: 'x', text: 'hello' }) });
    expect(s.pending).toEqual([]);
    expect(seqs(s)).toEqual([7]);
  });

  it('shows our message once whether the event or the ack comes first', () => {
    const stored = msg(9, { clientMsgId: 'x' });
    const sending = chatReducer(emptyChat, { type: 'sending', clientMsgId: 'x', text: 'm9', now: 1 });
    for (const order of [
      ['received', 'sent'],
      ['sent', 'received'],
    ] as const) {
      let s = sending;
      for (const type of order) s = chatReducer(s, { type, message: stored });
      expect(seqs(s)).toEqual([9]);
      expect(s.pending).toEqual([]);
    }
  });

  it('marks a failed send and retries with the same id', () => {
    let s = chatReducer(emptyChat, { type: 'sending', clientMsgId: 'x', text: 'hi', now: 1 });
    s = chatReducer(s, { type: 'failed', clientMsgId: 'x', error: 'timed out' });
    expect(s.pending[0]).toMatchObject({ status: 'failed', error: 'timed out' });
    s = chatReducer(s, { type: 'sending', clientMsgId: 'x', text: 'hi', now: 2 });
    expect(s.pending).toHaveLength(1);
    expect(s.pending[0]).toMatchObject({ status: 'sending', error: null, createdAt: 1 });
    s = chatReducer(s, { type: 'sent', message: msg(3, { clientMsgId: 'x', text: 'hi' }) });
    expect(s.pending).toEqual([]);
    expect(seqs(s)).toEqual([3]);
  });

  it('does not resurrect a pending entry for a message already stored', () => {
    let s = chatFromPage({ messages: [msg(3, { clientMsgId: 'x' })], hasMore: false });
    s = chatReducer(s, { type: 'sending', clientMsgId: 'x', text: 'm3', now: 1 });
    expect(s.pending).toEqual([]);
  });

  it('a late failure after the message arrived changes nothing', () => {
    let s = chatReducer(emptyChat, { type: 'sending', clientMsgId: 'x', text: 'hi', now: 1 });
    s = chatReducer(s, { type: 'received', message: msg(3, { clientMsgId: 'x' }) });
    const after = chatReducer(s, { type: 'failed', clientMsgId: 'x', error: 'late' });
    expect(after).toBe(s);
  });

  it('removes deleted messages and keeps seq order for out-of-order events', () => {
    let s = chatFromPage({ messages: [msg(1), msg(2)], hasMore: false });
    s = chatReducer(s, { type: 'received', message: msg(4) });
    s = chatReducer(s, { type: 'received', message: msg(3) });
    s = chatReducer(s, { type: 'deleted', seq: 2 });
    expect(seqs(s)).toEqual([1, 3, 4]);
    s = chatReducer(s, { type: 'received', message: msg(3, { deleted: true }) });
    expect(seqs(s)).toEqual([1, 4]);
  });

  it('discards a failed message', () => {
    let s = chatReducer(emptyChat, { type: 'sending', clientMsgId: 'x', text: 'hi', now: 1 });
    s = chatReducer(s, { type: 'discard', clientMsgId: 'x' });
    expect(s.pending).toEqual([]);
  });
});
