/**
 * Chat history as the room screen shows it: stored messages in `seq` order, then our own
 * messages still being sent (or that failed), keyed by clientMsgId so a retry reuses the
 * id and the stored message replaces its optimistic entry exactly once.
 */
import type { ChatMessage, ChatPage } from '../services/types';

export type PendingMessage = {
  clientMsgId: string;
  text: string;
  status: 'sending' | 'failed';
  error: string | null;
  createdAt: number;
};

export type ChatState = {
  /** Stored messages, ascending seq, no duplicates, none deleted. */
  messages: ChatMessage[];
  /** Ours, not stored yet, in the order they were written. */
  pending: PendingMessage[];
  /** Older messages exist before messages[0]. */
  hasMore: boolean;
};

export type ChatAction =
  | { type: 'reset'; page: ChatPage }
  | { type: 'older'; page: ChatPage }
  /** A newer page (after a rejoin): messages missed while away are added. */
  | { type: 'merge'; page: ChatPage }
  | { type: 'received'; message: ChatMessage }
  | { type: 'sending'; clientMsgId: string; text: string; now: number }
  | { type: 'sent'; message: ChatMessage }
  | { type: 'failed'; clientMsgId: string; error: string }
  | { type: 'discard'; clientMsgId: string }
  | { type: 'deleted'; seq: number };

export const emptyChat: ChatState = { messages: [], pending: [], hasMore: false };

export function chatFromPage(page: ChatPage): ChatState {
  return { messages: merge([], page.messages), pending: [], hasMore: page.hasMore };
}

/** Inserts `incoming` into the ascending `messages`, skipping seqs already there and deleted ones. */
function merge(messages: ChatMessage[], incoming: ChatMessage[]): ChatMessage[] {
  const bySeq = new Map<number, ChatMessage>();
  for (const m of messages) bySeq.set(m.seq, m);
  for (const m of incoming) {
    if (m.deleted) bySeq.delete(m.seq);
    else bySeq.set(m.seq, m);
  }
  return [...bySeq.values()].sort((a, b) => a.seq - b.seq);
}

function store(state: ChatState, message: ChatMessage): ChatState {
  const pending = state.pending.filter((p) => p.clientMsgId !== message.clientMsgId);
  const known = state.messages.some((m) => m.seq === message.seq);
  if (known && !message.deleted && pending.length === state.pending.length) return state;
  return {
    ...state,
    messages: merge(state.messages, [message]),
    pending,
  };
}

export function chatReducer(state: ChatState, action: ChatAction): ChatState {
  switch (action.type) {
    case 'reset':
      return { ...chatFromPage(action.page), pending: state.pending };
    case 'older':
      return {
        ...state,
        messages: merge(state.messages, action.page.messages),
        hasMore: action.page.hasMore,
      };
    case 'merge': {
      const newest = state.messages.at(-1)?.seq ?? 0;
      const first = action.page.messages[0]?.seq;
      // Missed more than a page: show the new page (older ones load on demand).
      if (first !== undefined && first > newest + 1 && state.messages.length > 0) {
        return { ...chatFromPage({ ...action.page, hasMore: true }), pending: state.pending };
      }
      let merged = state;
      for (const message of action.page.messages) merged = store(merged, message);
      return merged;
    }
    case 'received':
    case 'sent':
      return store(state, action.message);
    case 'sending': {
      // Already stored (the event beat a retry's answer): nothing to show twice.
      if (state.messages.some((m) => m.clientMsgId === action.clientMsgId)) return state;
      const existing = state.pending.find((p) => p.clientMsgId === action.clientMsgId);
      if (existing) {
        return {
          ...state,
          pending: state.pending.map((p) =>
            p.clientMsgId === action.clientMsgId ? { ...p, status: 'sending', error: null } : p,
          ),
        };
      }
      return {
        ...state,
        pending: [
          ...state.pending,
          {
            clientMsgId: action.clientMsgId,
            text: action.text,
            status: 'sending',
            error: null,
            createdAt: action.now,
          },
        ],
      };
    }
    case 'failed':
      if (!state.pending.some((p) => p.clientMsgId === action.clientMsgId)) return state;
      return {
        ...state,
        pending: state.pending.map((p) =>
          p.clientMsgId === action.clientMsgId ? { ...p, status: 'failed', error: action.error } : p,
        ),
      };
    case 'discard':
      return { ...state, pending: state.pending.filter((p) => p.clientMsgId !== action.clientMsgId) };
    case 'deleted':
      if (!state.messages.some((m) => m.seq === action.seq)) return state;
      return { ...state, messages: state.messages.filter((m) => m.seq !== action.seq) };
  }
}

/** The seq to pass to load_older_chat, or null when nothing is loaded yet. */
export function oldestSeq(state: ChatState): number | null {
  return state.messages[0]?.seq ?? null;
}
