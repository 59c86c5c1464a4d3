import { useLayoutEffect, useRef, useState, type ReactNode } from 'react';
import {
  deleteChat,
  describeError,
  loadOlderChat,
  sendChat,
  type ChatMessage,
} from '../services/studyhall';
import type { ChatAction, ChatState, PendingMessage } from '../state/chat';
import { oldestSeq } from '../state/chat';
import { clockTime, utf8ByteLength } from '../state/text';
import { Spinner } from './Dialog';
import { SendIcon } from './Icons';
import { useToast } from './Toasts';

const AT_BOTTOM_PX = 48;

/** Makes a clientMsgId (a fresh UUID). */
export function newClientMsgId(): string {
  return crypto.randomUUID();
}

/** Sends (or resends, with the same id) one of our messages through the chat reducer. */
export function sendThroughChat(dispatch: (action: ChatAction) => void, clientMsgId: string, text: string): void {
  dispatch({ type: 'sending', clientMsgId, text, now: Date.now() });
  sendChat(clientMsgId, text).then(
    (message) => dispatch({ type: 'sent', message }),
    (error: unknown) => dispatch({ type: 'failed', clientMsgId, error: describeError(error) }),
  );
}

export function ChatPanel({
  chat,
  dispatch,
  youIdentity,
  isHost,
  maxChatBytes,
  canSend,
  attachment,
}: {
  chat: ChatState;
  dispatch: (action: ChatAction) => void;
  youIdentity: string;
  isHost: boolean;
  maxChatBytes: number;
  canSend: boolean;
  /**
   * Draws what a message with an `attachment` carries (a shared file's card), in place of
   * its text; without it, such a message shows its text (the file's name).
   */
  attachment?: (message: ChatMessage) => ReactNode;
}) {
  const [draft, setDraft] = useState('');
  const [loadingOlder, setLoadingOlder] = useState(false);
  const list = useRef<HTMLOListElement>(null);
  const atBottom = useRef(true);
  /** Set before loading older messages: keep what is on screen where it was. */
  const keepFromBottom = useRef<number | null>(null);
  const toast = useToast();

  const bytes = utf8ByteLength(draft);
  const tooLong = bytes > maxChatBytes;
  const empty = draft.trim() === '';

  useLayoutEffect(() => {
    const el = list.current;
    if (!el) return;
    if (keepFromBottom.current !== null) {
      el.scrollTop = el.scrollHeight - keepFromBottom.current;
      keepFromBottom.current = null;
    } else if (atBottom.current) {
      el.scrollTop = el.scrollHeight;
    }
  }, [chat.messages, chat.pending]);

  function send() {
    if (empty || tooLong || !canSend) return;
    const text = draft;
    setDraft('');
    atBottom.current = true;
    sendThroughChat(dispatch, newClientMsgId(), text);
  }

  async function older() {
    const before = oldestSeq(chat);
    if (before === null) return;
    setLoadingOlder(true);
    try {
      const page = await loadOlderChat(before);
      const el = list.current;
      if (el) keepFromBottom.current = el.scrollHeight - el.scrollTop;
      dispatch({ type: 'older', page });
    } catch (error) {
      toast(`Couldn't load older messages: ${describeError(error)}`, 'error');
    } finally {
      setLoadingOlder(false);
    }
  }

  function remove(message: ChatMessage) {
    deleteChat(message.seq).then(
      () => dispatch({ type: 'deleted', seq: message.seq }),
      (error: unknown) => toast(`Couldn't delete the message: ${describeError(error)}`, 'error'),
    );
  }

  const nothing = chat.messages.length === 0 && chat.pending.length === 0;

  return (
    <section className="chat" aria-label="Chat" data-testid="chat-panel">
      <ol
        className="chat__list"
        ref={list}
        onScroll={(e) => {
          const el = e.currentTarget;
          atBottom.current = el.scrollHeight - el.scrollTop - el.clientHeight < AT_BOTTOM_PX;
        }}
        data-testid="chat-list"
      >
        {chat.hasMore && (
          <li className="chat__older">
            <button
              className="button button--ghost button--small"
              onClick={() => void older()}
              disabled={loadingOlder}
              data-testid="chat-load-older"
            >
              {loadingOlder && <Spinner />}
              Load older messages
            </button>
          </li>
        )}
        {nothing && <li className="chat__empty muted">No messages yet. Say hi!</li>}
        {chat.messages.map((m) => (
          <li
            key={`seq-${m.seq}`}
            className={`message ${m.from === youIdentity ? 'message--own' : ''}`}
            data-testid="chat-message"
            data-seq={m.seq}
            data-status="sent"
          >
            <div className="message__meta">
              <span className="message__name">{m.from === youIdentity ? 'You' : m.name}</span>
              <time dateTime={new Date(m.ts).toISOString()}>{clockTime(m.ts)}</time>
              {isHost && (
                <button
                  className="message__delete"
                  onClick={() => remove(m)}
                  aria-label="Delete message"
                  title="Delete for everyone"
                  data-testid="chat-delete"
                >
                  Delete
                </button>
              )}
            </div>
            {m.attachment && attachment ? (
              attachment(m)
            ) : (
              <p className="message__text" data-testid="chat-text">
                {m.text}
              </p>
            )}
          </li>
        ))}
        {chat.pending.map((p) => (
          <PendingItem key={`pending-${p.clientMsgId}`} pending={p} dispatch={dispatch} />
        ))}
      </ol>
      <form
        className="chat__composer"
        onSubmit={(e) => {
          e.preventDefault();
          send();
        }}
      >
        <textarea
          className="input chat__input"
          rows={2}
          value={draft}
          placeholder={canSend ? 'Message everyone' : 'Reconnecting…'}
          aria-label="Message"
          onChange={(e) => setDraft(e.target.value)}
          onKeyDown={(e) => {
            if (e.key === 'Enter' && !e.shiftKey && !e.nativeEvent.isComposing) {
              e.preventDefault();
              send();
            }
          }}
          data-testid="chat-input"
        />
        <div className="chat__actions">
          <span
            className={`chat__counter ${tooLong ? 'error' : bytes > maxChatBytes * 0.8 ? '' : 'muted'}`}
            data-testid="chat-counter"
            aria-live="polite"
          >
            {tooLong ? `Too long: ${bytes} / ${maxChatBytes} bytes` : `${bytes} / ${maxChatBytes}`}
          </span>
          <button
            type="submit"
            className="button button--primary button--small"
            disabled={empty || tooLong || !canSend}
            data-testid="chat-send"
          >
            <SendIcon /> Send
          </button>
        </div>
      </form>
    </section>
  );
}

function PendingItem({ pending, dispatch }: { pending: PendingMessage; dispatch: (action: ChatAction) => void }) {
  const failed = pending.status === 'failed';
  return (
    <li
      className={`message message--own message--${pending.status}`}
      data-testid="chat-message"
      data-status={pending.status}
      data-client-msg-id={pending.clientMsgId}
    >
      <div className="message__meta">
        <span className="message__name">You</span>
        <span className={failed ? 'error' : 'muted'} data-testid="chat-message-status">
          {failed ? 'not sent' : 'sending…'}
        </span>
      </div>
      <p className="message__text" data-testid="chat-text">
        {pending.text}
      </p>
      {failed && (
        <div className="message__failure">
          {pending.error && <span className="error">{pending.error}</span>}
          <button
            className="button button--small"
            onClick={() => sendThroughChat(dispatch, pending.clientMsgId, pending.text)}
            data-testid="chat-retry"
          >
            Retry
          </button>
          <button
            className="button button--ghost button--small"
            onClick={() => dispatch({ type: 'discard', clientMsgId: pending.clientMsgId })}
            data-testid="chat-discard"
          >
            Discard
          </button>
        </div>
      )}
    </li>
  );
}
