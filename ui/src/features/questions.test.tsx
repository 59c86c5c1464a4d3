// Questions and presenters in the room screen, through the feature seam: the side panel's
// tabs and their counts, the ask box, the list, the presenters' actions, the people tab.
import { act, cleanup, fireEvent, render, screen, waitFor, within } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ToastProvider } from '../components/Toasts';
import { RoomScreen } from '../screens/RoomScreen';
import * as service from '../services/studyhall';
import { AppError, type Question, type RoomEvent, type RoomSnapshot } from '../services/studyhall';
import { features, handlers, lectureState, participant, question, resetHandlers, snapshot } from '../test/serviceMock';

vi.mock('../services/studyhall', async (importOriginal) =>
  (await import('../test/serviceMock')).mockService(importOriginal),
);

afterEach(() => {
  cleanup();
  resetHandlers();
});

const T0 = 1_795_000_000_000;

/** Ada is a student here (not the host); Bob is in the room too. */
const student = (extra: Partial<RoomSnapshot> = {}) =>
  snapshot({ you: participant('ada-1', 'Ada', { you: true, host: false }), ...extra });

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

const asked = (q: Question, requestId?: string): RoomEvent => ({
  type: 'feature',
  event: requestId === undefined ? { type: 'question', question: q } : { type: 'question', request_id: requestId, question: q },
});

const id = (testId: string) => screen.getByTestId(testId);
const items = () => screen.queryAllByTestId('question-item');
const itemOf = (questionId: string) => {
  const item = items().find((el) => el.dataset.questionId === questionId);
  if (!item) throw new Error(`no question ${questionId}`);
  return item;
};
const openQuestions = () => fireEvent.click(id('toggle-questions'));

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

describe('side panel', () => {
  it('has a tab each for the chat, the people, the questions, the polls and the materials, from the toolbar or the tabs', () => {
    renderRoom();
    expect(screen.queryByTestId('side-panel')).toBeNull();
    fireEvent.click(id('toggle-people'));
    expect(id('side-panel').dataset.tab).toBe('people');
    expect(screen.getAllByRole('tab').map((t) => t.dataset.testid)).toEqual([
      'chat-tab',
      'people-tab',
      'questions-tab',
      'polls-tab',
      'materials-tab',
    ]);
    expect(id('people-tab').getAttribute('aria-selected')).toBe('true');
    expect(id('people-list')).toBeTruthy();

    fireEvent.click(id('questions-tab'));
    expect(id('questions-panel')).toBeTruthy();
    expect(screen.queryByTestId('people-list')).toBeNull();
    // Arrow keys move between the tabs.
    fireEvent.keyDown(id('questions-tab'), { key: 'ArrowRight' });
    expect(id('polls-panel')).toBeTruthy();
    fireEvent.keyDown(id('polls-tab'), { key: 'ArrowRight' });
    expect(id('materials-panel')).toBeTruthy();
    fireEvent.keyDown(id('materials-tab'), { key: 'ArrowRight' });
    expect(id('chat-panel')).toBeTruthy();
    expect(id('toggle-chat').getAttribute('aria-pressed')).toBe('true');
    // The toolbar button of the tab shown closes the panel.
    fireEvent.click(id('toggle-chat'));
    expect(screen.queryByTestId('side-panel')).toBeNull();
  });

  it('counts on each tab what is new there since it was last shown', () => {
    renderRoom(student());
    fireEvent.click(id('toggle-chat'));
    emit({ type: 'participantJoined', participant: participant('cat-3', 'Cat', { joinedAt: 3 }) });
    emit({ type: 'participantJoined', participant: participant('dan-4', 'Dan', { joinedAt: 4 }) });
    emit(asked(question('q1', 'Is this on the exam?')));
    expect(id('people-tab-unread').textContent).toBe('2');
    expect(id('people-unread').textContent).toBe('2');
    expect(id('questions-tab-unread').textContent).toBe('1');
    // Someone who came and went is no news.
    emit({ type: 'participantLeft', identity: 'dan-4', reason: 'left' });
    expect(id('people-tab-unread').textContent).toBe('1');

    fireEvent.click(id('people-tab'));
    expect(screen.queryByTestId('people-tab-unread')).toBeNull();
    expect(screen.queryByTestId('people-unread')).toBeNull();
    // Chat messages are counted on the chat's tab while another is shown.
    emit({
      type: 'chatMessage',
      message: { seq: 1, from: 'bob-2', name: 'Bob', text: 'hi', ts: T0, clientMsgId: 'c1', deleted: false, attachment: null },
    });
    expect(id('chat-tab-unread').textContent).toBe('1');
    expect(id('chat-unread').textContent).toBe('1');

    fireEvent.click(id('questions-tab'));
    expect(screen.queryByTestId('questions-tab-unread')).toBeNull();
    // Seen as it comes while the tab is shown.
    emit(asked(question('q2', 'And the homework?')));
    expect(screen.queryByTestId('questions-unread')).toBeNull();
    fireEvent.click(id('toggle-questions'));
    emit(asked(question('q3', 'One more')));
    expect(id('questions-unread').textContent).toBe('1');
  });
});

describe('asking', () => {
  it('sends the trimmed question, anonymously if ticked, and waits for it to be stored', async () => {
    const request = deferred();
    vi.mocked(service.featureRequest).mockReturnValueOnce(request.promise);
    renderRoom(student());
    openQuestions();
    expect(id('questions-empty').textContent).toContain('No questions yet.');
    const input = screen.getByTestId<HTMLTextAreaElement>('question-input');
    const send = screen.getByTestId<HTMLButtonElement>('question-send');
    expect(send.disabled).toBe(true);

    fireEvent.change(input, { target: { value: '  Why is the sky blue?  ' } });
    expect(id('question-bytes').textContent).toBe('20 / 1000');
    fireEvent.click(id('question-anonymous'));
    fireEvent.click(send);
    expect(service.featureRequest).toHaveBeenCalledWith({ type: 'question_ask', text: 'Why is the sky blue?', anonymous: true });
    expect(send.disabled).toBe(true);
    expect(input.disabled).toBe(true);

    // The relay's copy for the asker comes with the request's id, then the answer.
    emit(asked(question('q1', 'Why is the sky blue?', { mine: true, anonymous: true, by: 'ada-1', by_name: 'Ada' }), 'r1'));
    await act(async () => {
      request.resolve(null);
      await request.promise;
    });
    expect(input.value).toBe('');
    expect(input.disabled).toBe(false);
    expect(within(itemOf('q1')).getByTestId('question-by').textContent).toBe('You (anonymous)');
    // Your own question is no news to you.
    expect(screen.queryByTestId('questions-tab-unread')).toBeNull();
  });

  it('stops a question that is too long before sending, counting bytes', () => {
    renderRoom(student());
    openQuestions();
    fireEvent.change(id('question-input'), { target: { value: 'é'.repeat(501) } });
    expect(id('question-bytes').textContent).toBe('Too long: 1002 / 1000 bytes');
    expect(screen.getByTestId<HTMLButtonElement>('question-send').disabled).toBe(true);
    fireEvent.keyDown(id('question-input'), { key: 'Enter' });
    expect(service.featureRequest).not.toHaveBeenCalledWith(expect.objectContaining({ type: 'question_ask' }));
  });

  it("shows the relay's refusal (too many a minute) and keeps the text", async () => {
    vi.mocked(service.featureRequest).mockRejectedValueOnce(
      new AppError('rateLimited', 'questions_per_minute: at most 5 a minute; ask again in 12 s'),
    );
    renderRoom(student());
    openQuestions();
    fireEvent.change(id('question-input'), { target: { value: 'Another one?' } });
    fireEvent.keyDown(id('question-input'), { key: 'Enter' });
    expect((await screen.findByTestId('question-error')).textContent).toBe(
      'questions_per_minute: at most 5 a minute; ask again in 12 s',
    );
    expect(screen.getByTestId<HTMLTextAreaElement>('question-input').value).toBe('Another one?');
    fireEvent.change(id('question-input'), { target: { value: 'Another one??' } });
    expect(screen.queryByTestId('question-error')).toBeNull();
  });
});

describe('the list', () => {
  const list = [
    question('q1', 'Early, one vote', { votes: 1, asked_at: T0 }),
    question('q2', 'Anonymous', { anonymous: true, by: null, by_name: null, votes: 3, asked_at: T0 + 1 }),
    question('q3', 'Late, one vote', { votes: 1, voted: true, asked_at: T0 + 2 }),
    question('q4', 'Answered', { state: 'answered', votes: 5, mine: true, by: 'ada-1', by_name: 'Ada' }),
  ];

  it('shows the open questions by votes then time, and the closed ones folded away', () => {
    renderRoom(student({ features: features({ questions: list }) }));
    openQuestions();
    expect(items().map((el) => el.dataset.questionId)).toEqual(['q2', 'q1', 'q3']);
    expect(within(itemOf('q2')).getByTestId('question-by').textContent).toBe('Anonymous');
    expect(within(itemOf('q1')).getByTestId('question-by').textContent).toBe('Bob');
    expect(itemOf('q2').dataset.votes).toBe('3');
    expect(within(itemOf('q3')).getByTestId<HTMLButtonElement>('question-upvote').disabled).toBe(true);
    // A student has no presenter's actions.
    expect(screen.queryByTestId('question-answer')).toBeNull();
    expect(screen.queryByTestId('question-pin')).toBeNull();

    fireEvent.click(id('questions-closed-toggle'));
    expect(id('questions-closed-toggle').textContent).toContain('Closed (1)');
    const closed = itemOf('q4');
    expect(closed.dataset.state).toBe('answered');
    expect(within(closed).getByTestId('question-state').textContent).toBe('Answered');
    expect(within(closed).getByTestId<HTMLButtonElement>('question-upvote').disabled).toBe(true);
  });

  it('upvotes once: the button waits for the relay, which moves the question up', async () => {
    renderRoom(student({ features: features({ questions: list }) }));
    openQuestions();
    fireEvent.click(within(itemOf('q1')).getByTestId('question-upvote'));
    expect(service.featureRequest).toHaveBeenCalledWith({ type: 'question_upvote', id: 'q1' });
    await waitFor(() => expect(within(itemOf('q1')).getByTestId<HTMLButtonElement>('question-upvote').disabled).toBe(false));
    emit(asked({ ...list[0]!, votes: 4, voted: true }));
    expect(items().map((el) => el.dataset.questionId)).toEqual(['q1', 'q2', 'q3']);
    expect(within(itemOf('q1')).getByTestId<HTMLButtonElement>('question-upvote').disabled).toBe(true);
    expect(within(itemOf('q1')).getByTestId('question-votes').textContent).toBe('4');
  });

  it("gives the host the askers' names, and answer, dismiss and pin", async () => {
    const seenByHost = list.map((q) => (q.id === 'q2' ? { ...q, by: 'cat-3', by_name: 'Cat' } : q));
    renderRoom(snapshot({ features: features({ questions: seenByHost }) }));
    openQuestions();
    expect(within(itemOf('q2')).getByTestId('question-by').textContent).toBe('Cat (anonymous)');

    fireEvent.click(within(itemOf('q2')).getByTestId('question-pin'));
    expect(service.featureRequest).toHaveBeenLastCalledWith({ type: 'question_pin', id: 'q2' });
    await waitFor(() => expect(within(itemOf('q2')).getByTestId<HTMLButtonElement>('question-pin').disabled).toBe(false));
    emit(asked({ ...seenByHost[1]!, pinned: true }));
    expect(within(itemOf('q2')).getByTestId('question-pinned').textContent).toBe('Answering now');
    expect(id('question-now').textContent).toContain('Anonymous');
    expect(within(itemOf('q2')).getByTestId('question-pin').textContent).toBe('Unpin');

    fireEvent.click(within(itemOf('q2')).getByTestId('question-answer'));
    expect(service.featureRequest).toHaveBeenLastCalledWith({ type: 'question_close', id: 'q2', outcome: 'answered' });
    await waitFor(() => expect(within(itemOf('q2')).getByTestId<HTMLButtonElement>('question-answer').disabled).toBe(false));
    emit(asked({ ...seenByHost[1]!, state: 'answered' }));
    expect(screen.queryByTestId('question-now')).toBeNull();
    expect(items().map((el) => el.dataset.questionId)).toEqual(['q1', 'q3']);

    fireEvent.click(within(itemOf('q3')).getByTestId('question-dismiss'));
    expect(service.featureRequest).toHaveBeenLastCalledWith({ type: 'question_close', id: 'q3', outcome: 'dismissed' });
  });

  it('gives a presenter the same actions, and says why one failed', async () => {
    vi.mocked(service.featureRequest).mockRejectedValueOnce(
      new AppError('refused', 'only presenters and the host can pin questions'),
    );
    renderRoom(student({ you: participant('ada-1', 'Ada', { you: true, presenter: true }), features: features({ questions: list }) }));
    openQuestions();
    fireEvent.click(within(itemOf('q1')).getByTestId('question-pin'));
    expect((await screen.findByTestId('toast')).textContent).toContain(
      "Couldn't pin the question: only presenters and the host can pin questions",
    );
  });
});

describe('presenters', () => {
  it('are made by the host from the people tab, and everyone sees the badge', async () => {
    renderRoom();
    fireEvent.click(id('toggle-people'));
    expect(within(id('person-self')).queryByTestId('make-presenter')).toBeNull();
    const make = within(id('person-bob-2')).getByTestId<HTMLButtonElement>('make-presenter');
    expect(make.textContent).toBe('Make presenter');
    fireEvent.click(make);
    expect(service.featureRequest).toHaveBeenCalledWith({ type: 'set_presenter', identity: 'bob-2', presenter: true });
    await waitFor(() => expect(make.disabled).toBe(false));

    emit({ type: 'feature', event: { type: 'lecture', lecture: lectureState({ presenters: ['bob-2'] }), by: 'ada-1' } });
    emit({ type: 'participantUpdated', participant: participant('bob-2', 'Bob', { joinedAt: 2, presenter: true }) });
    expect(within(id('person-bob-2')).getByTestId('presenter-badge').textContent).toBe('Presenter');
    expect(within(id('tile-bob-2')).getByTestId('presenter-badge')).toBeTruthy();
    fireEvent.click(within(id('person-bob-2')).getByTestId('make-presenter'));
    expect(service.featureRequest).toHaveBeenLastCalledWith({ type: 'set_presenter', identity: 'bob-2', presenter: false });
  });

  it('are shown to a student, who cannot make any; the host tells you when you become one', async () => {
    renderRoom(student({ participants: [participant('bob-2', 'Bob', { joinedAt: 2, host: true })] }));
    fireEvent.click(id('toggle-people'));
    expect(screen.queryByTestId('make-presenter')).toBeNull();
    emit({ type: 'feature', event: { type: 'lecture', lecture: lectureState({ presenters: ['ada-1'] }), by: 'bob-2' } });
    emit({ type: 'participantUpdated', participant: participant('ada-1', 'Ada', { you: true, presenter: true }) });
    expect(within(id('person-self')).getByTestId('presenter-badge')).toBeTruthy();
    expect((await screen.findByTestId('toast')).textContent).toContain('Bob made you a presenter');
  });

  it("say in a toast why the host's change failed", async () => {
    vi.mocked(service.featureRequest).mockRejectedValueOnce(new AppError('refused', 'presenters: a room has at most 20'));
    renderRoom();
    fireEvent.click(id('toggle-people'));
    fireEvent.click(within(id('person-bob-2')).getByTestId('make-presenter'));
    expect((await screen.findByTestId('toast')).textContent).toContain(
      "Couldn't make Bob a presenter: presenters: a room has at most 20",
    );
  });
});
