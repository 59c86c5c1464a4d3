import { act, cleanup, fireEvent, render, screen, waitFor } from '@testing-library/react';
import { useReducer } from 'react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import * as service from '../services/studyhall';
import { AppError, type ChatMessage } from '../services/studyhall';
import { chatReducer, emptyChat } from '../state/chat';
import { ChatPanel } from './ChatPanel';

vi.mock('../services/studyhall', async (importOriginal) =>
  (await import('../test/serviceMock')).mockService(importOriginal),
);

afterEach(cleanup);

function stored(clientMsgId: string, text: string, seq = 1): ChatMessage {
  return { seq, from: 'me', name: 'Ada', text, ts: 0, clientMsgId, deleted: false, attachment: null };
}

function Harness({ max = 10 }: { max?: number }) {
  const [chat, dispatch] = useReducer(chatReducer, emptyChat);
  return <ChatPanel chat={chat} dispatch={dispatch} youIdentity="me" isHost={false} maxChatBytes={max} canSend />;
}

describe('ChatPanel', () => {
  it('shows "sending…" until send_chat resolves, then the stored message', async () => {
    let resolve: (m: ChatMessage) => void = () => {};
    vi.mocked(service.sendChat).mockImplementation(
      (id, text) => new Promise((r) => (resolve = () => r(stored(id, text)))),
    );
    render(<Harness />);
    const input = screen.getByTestId('chat-input');
    fireEvent.change(input, { target: { value: 'hi' } });
    fireEvent.keyDown(input, { key: 'Enter' });
    expect(screen.getByTestId('chat-message-status').textContent).toBe('sending…');
    act(() => resolve(stored('', '')));
    await waitFor(() => expect(screen.getByTestId('chat-message').dataset.status).toBe('sent'));
    expect(screen.getAllByTestId('chat-message')).toHaveLength(1);
  });

  it('retries a failed message with the same clientMsgId', async () => {
    vi.mocked(service.sendChat)
      .mockRejectedValueOnce(new AppError('timeout', 'no answer'))
      .mockImplementationOnce((id, text) => Promise.resolve(stored(id, text)));
    render(<Harness />);
    fireEvent.change(screen.getByTestId('chat-input'), { target: { value: 'hi' } });
    fireEvent.click(screen.getByTestId('chat-send'));
    expect((await screen.findByTestId('chat-message-status')).textContent).toBe('not sent');
    fireEvent.click(screen.getByTestId('chat-retry'));
    await waitFor(() => expect(screen.getByTestId('chat-message').dataset.status).toBe('sent'));
    const [first, second] = vi.mocked(service.sendChat).mock.calls;
    expect(first?.[0]).toBe(second?.[0]);
  });

  it('counts UTF-8 bytes and refuses messages over the limit; Shift+Enter does not send', () => {
    render(<Harness max={4} />);
    const input = screen.getByTestId('chat-input');
    fireEvent.change(input, { target: { value: 'é€' } });
    expect(screen.getByTestId('chat-counter').textContent).toContain('Too long: 5 / 4 bytes');
    expect(screen.getByTestId<HTMLButtonElement>('chat-send').disabled).toBe(true);
    fireEvent.change(input, { target: { value: 'ok' } });
    fireEvent.keyDown(input, { key: 'Enter', shiftKey: true });
    expect(service.sendChat).not.toHaveBeenCalled();
  });
});
