// Polls in the room screen, through the feature seam: the tab and its count, voting,
// results, the CSV export, and the drafts, launch and close of presenters and the host.
import { act, cleanup, fireEvent, render, screen, waitFor, within } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ToastProvider } from '../components/Toasts';
import { RoomScreen } from '../screens/RoomScreen';
import * as service from '../services/studyhall';
import { AppError, type Poll, type RoomEvent, type RoomSnapshot } from '../services/studyhall';
import { features, handlers, participant, poll, pollDraft, resetHandlers, snapshot } from '../test/serviceMock';
import { forgetPollDrafts } from './pollDrafts';

vi.mock('../services/studyhall', async (importOriginal) =>
  (await import('../test/serviceMock')).mockService(importOriginal),
);

afterEach(() => {
  cleanup();
  resetHandlers();
  forgetPollDrafts();
});

const T0 = 1_795_000_000_000;

/** Ada is a student here (not the host); Bob hosts. */
const student = (polls: Poll[] = []) =>
  snapshot({
    you: participant('ada-1', 'Ada', { you: true, host: false }),
    participants: [participant('bob-2', 'Bob', { host: true, joinedAt: 2 })],
    features: features({ polls }),
  });

/** Ada hosts. */
const host = (polls: Poll[] = []) => snapshot({ features: features({ polls }) });

function renderRoom(snap: RoomSnapshot) {
  render(
    <ToastProvider>
      <RoomScreen snapshot={snap} invite="K7QX-29FD@192.168.1.20:7450" onExit={() => {}} />
    </ToastProvider>,
  );
}

function emit(event: RoomEvent) {
  act(() => handlers.room.forEach((h) => h(event)));
}

const told = (p: Poll, requestId?: string): RoomEvent => ({
  type: 'feature',
  event: requestId === undefined ? { type: 'poll', poll: p } : { type: 'poll', request_id: requestId, poll: p },
});

const id = (testId: string) => screen.getByTestId(testId);
const openPolls = () => fireEvent.click(id('toggle-polls'));
/** The polls' requests sent (the room sends others: the whiteboard's sync). */
const requests = () =>
  vi
    .mocked(service.featureRequest)
    .mock.calls.map(([r]) => r)
    .filter((r) => r.type.startsWith('poll_'));

/** The relay refuses the next poll request with `message`. */
function refuseNextPollRequest(message: string) {
  let refused = false;
  vi.mocked(service.featureRequest).mockImplementation((request) => {
    if (refused || !request.type.startsWith('poll_')) return Promise.resolve(null);
    refused = true;
    return Promise.reject(new AppError('refused', message));
  });
}

const closed = (pollId: string, extra: Partial<Poll> = {}) =>
  poll(pollId, { state: 'closed', closed_at: T0 + 60_000, votes: 3, results: [2, 1, 0], ...extra });

describe('the polls tab', () => {
  it('counts a launch and a close as new; a late joiner is told of the open poll', () => {
    renderRoom(student());
    expect(screen.queryByTestId('polls-unread')).toBeNull();
    emit(told(poll('p1')));
    expect(id('polls-unread').textContent).toBe('1');
    // Votes are no news.
    emit(told(poll('p1', { votes: 2 })));
    expect(id('polls-unread').textContent).toBe('1');
    openPolls();
    expect(screen.queryByTestId('polls-tab-unread')).toBeNull();
    expect(id('poll-open').dataset.votes).toBe('2');
    fireEvent.click(id('chat-tab'));
    emit(told(closed('p1')));
    expect(id('polls-tab-unread').textContent).toBe('1');
    cleanup();

    renderRoom(student([closed('p1'), poll('p2')]));
    expect(id('polls-unread').textContent).toBe('1');
    openPolls();
    expect(id('poll-open').dataset.pollId).toBe('p2');
    expect(screen.queryByTestId('polls-unread')).toBeNull();
    expect(screen.getAllByTestId('poll-closed').map((el) => el.dataset.pollId)).toEqual(['p1']);
  });

  it('tells a student when there are no polls, and shows them no drafts', () => {
    renderRoom(student());
    openPolls();
    expect(id('polls-empty').textContent).toContain('No polls yet.');
    expect(screen.queryByTestId('poll-drafts')).toBeNull();
    expect(service.pollDrafts).not.toHaveBeenCalled();
  });
});

describe('voting', () => {
  it('is one option in a single-choice poll; then "You voted" and results at the close', async () => {
    renderRoom(student([poll('p1')]));
    openPolls();
    const vote = screen.getByTestId<HTMLButtonElement>('poll-vote');
    expect(vote.disabled).toBe(true);
    const options = screen.getAllByTestId<HTMLInputElement>('poll-option');
    expect(options.map((o) => o.type)).toEqual(['radio', 'radio', 'radio']);
    fireEvent.click(options[0]!);
    fireEvent.click(options[1]!);
    expect(options.map((o) => o.checked)).toEqual([false, true, false]);
    expect(id('poll-privacy').textContent).toContain('Anonymous');
    fireEvent.click(vote);
    await waitFor(() => expect(requests()).toEqual([{ type: 'poll_vote', id: 'p1', choices: [1] }]));

    emit(told(poll('p1', { votes: 1, your_choices: [1] })));
    expect(id('poll-your-vote').textContent).toBe('You voted: Contradiction');
    expect(id('poll-results-later').textContent).toBe('Results when the poll closes.');
    expect(screen.queryByTestId('poll-option')).toBeNull();
    expect(screen.queryByTestId('poll-results')).toBeNull();

    emit(told(closed('p1', { votes: 3, results: [1, 2, 0], your_choices: [1] })));
    expect(screen.queryByTestId('poll-open')).toBeNull();
    const item = id('poll-closed');
    expect(within(item).getByTestId('poll-results').dataset.results).toBe('1,2,0');
    expect(within(item).getByTestId('poll-results').textContent).toContain('2 · 67%');
    expect(item.textContent).toContain('You voted: Contradiction');
  });

  it('is one or more options in a multiple-choice poll, sent in order; a refusal is told', async () => {
    refuseNextPollRequest('poll `p1` is closed');
    renderRoom(student([poll('p1', { kind: 'multiple', anonymous: false })]));
    openPolls();
    expect(id('poll-privacy').textContent).toContain('Named');
    const options = screen.getAllByTestId<HTMLInputElement>('poll-option');
    expect(options.map((o) => o.type)).toEqual(['checkbox', 'checkbox', 'checkbox']);
    fireEvent.click(options[2]!);
    fireEvent.click(options[0]!);
    fireEvent.click(options[1]!);
    fireEvent.click(options[1]!);
    fireEvent.click(id('poll-vote'));
    await waitFor(() => expect(id('toast').textContent).toContain("Couldn't vote: poll `p1` is closed"));
    expect(requests()).toEqual([{ type: 'poll_vote', id: 'p1', choices: [0, 2] }]);
    expect(screen.getAllByTestId<HTMLInputElement>('poll-option').map((o) => o.checked)).toEqual([true, false, true]);
  });
});

describe('export', () => {
  it("saves a closed poll's results as poll-<id>.csv and says where", async () => {
    renderRoom(student([closed('p4', { question: 'Ready, "really"?' })]));
    openPolls();
    fireEvent.click(id('poll-export'));
    await waitFor(() => expect(id('toast').textContent).toContain('Saved to /home/ada/Downloads/poll-p4.csv'));
    const [name, data] = vi.mocked(service.saveExport).mock.calls[0]!;
    expect(name).toBe('poll-p4.csv');
    const text = new TextDecoder().decode(Uint8Array.from(atob(data), (c) => c.charCodeAt(0)));
    expect(text).toContain('Question,"Ready, ""really""?"\r\n');
    expect(text).toContain('\r\nInduction,2,66.7\r\n');
    expect(text).not.toContain('Voter,');
  });

  it('tells when the file could not be saved', async () => {
    vi.mocked(service.saveExport).mockRejectedValueOnce(new AppError('storage', 'Cannot write /home/ada/Downloads/poll-p4.csv: disk full'));
    renderRoom(student([closed('p4')]));
    openPolls();
    fireEvent.click(id('poll-export'));
    await waitFor(() => expect(id('toast').textContent).toContain("Couldn't save the results: Cannot write"));
  });
});

describe('drafts', () => {
  async function openDrafts(drafts = [pollDraft('Ready for the quiz?')], snap = host()) {
    vi.mocked(service.pollDrafts).mockResolvedValue(drafts);
    renderRoom(snap);
    openPolls();
    await waitFor(() => expect(screen.queryByTestId('poll-drafts-loading')).toBeNull());
  }
  const draftTexts = () => screen.queryAllByTestId('poll-draft-text').map((el) => el.textContent);
  const saved = () => vi.mocked(service.savePollDrafts).mock.calls.map(([d]) => d);
  const type = (el: HTMLElement, value: string) => fireEvent.change(el, { target: { value } });

  it('are read once, when first shown; a new one is checked and kept trimmed', async () => {
    await openDrafts();
    expect(draftTexts()).toEqual(['Ready for the quiz?']);
    fireEvent.click(id('chat-tab'));
    fireEvent.click(id('polls-tab'));
    expect(service.pollDrafts).toHaveBeenCalledTimes(1);

    fireEvent.click(id('poll-draft-new'));
    const save = screen.getByTestId<HTMLButtonElement>('poll-draft-save');
    expect(save.disabled).toBe(true);
    expect(id('poll-draft-problem').textContent).toBe('Question: Write the question');
    type(id('poll-draft-question'), '  Which proof next?  ');
    expect(id('poll-draft-question-bytes').textContent).toBe('17 / 500');
    const options = () => screen.getAllByTestId('poll-draft-option');
    type(options()[0]!, 'Induction');
    expect(id('poll-draft-problem').textContent).toBe('Option 2: Fill in option 2 or remove it');
    type(options()[1]!, ' Contradiction ');
    fireEvent.click(id('poll-draft-add-option'));
    expect(options()[2]).toBe(document.activeElement);
    type(options()[2]!, 'Construction');
    fireEvent.change(id('poll-draft-kind'), { target: { value: 'multiple' } });
    fireEvent.click(id('poll-draft-anonymous'));
    expect(save.disabled).toBe(false);
    fireEvent.click(save);

    await waitFor(() => expect(screen.queryByTestId('poll-draft-editor')).toBeNull());
    expect(saved()).toEqual([
      [
        pollDraft('Ready for the quiz?'),
        { question: 'Which proof next?', options: ['Induction', 'Contradiction', 'Construction'], kind: 'multiple', anonymous: false },
      ],
    ]);
    expect(draftTexts()).toEqual(['Ready for the quiz?', 'Which proof next?']);
    expect(screen.getAllByTestId('poll-draft')[1]!.textContent).toContain('3 options · one or more choices · named');
  });

  it('show the limits: bytes, 2 to 10 options; what the app refuses is said and the draft stays', async () => {
    await openDrafts([]);
    expect(id('poll-drafts-empty')).toBeTruthy();
    fireEvent.click(id('poll-draft-new'));
    type(id('poll-draft-question'), 'é'.repeat(251));
    expect(id('poll-draft-question-bytes').textContent).toBe('Too long: 502 / 500 bytes');
    // The counter says it; beside the field only what it cannot say.
    expect(screen.queryByTestId('poll-draft-question-error')).toBeNull();
    type(id('poll-draft-question'), 'Pick\u0007');
    expect(id('poll-draft-question-error').textContent).toBe('Holds a control character (U+0007)');
    type(id('poll-draft-question'), 'Pick');
    const options = () => screen.getAllByTestId<HTMLInputElement>('poll-draft-option');
    type(options()[0]!, 'x'.repeat(201));
    expect(id('poll-draft-option-bytes').textContent).toBe('Too long: 201 / 200 bytes');
    expect(screen.getByTestId<HTMLButtonElement>('poll-draft-save').disabled).toBe(true);
    type(options()[0]!, 'a');
    // Two at least: those can't be removed.
    expect(screen.getAllByTestId<HTMLButtonElement>('poll-draft-remove-option').every((b) => b.disabled)).toBe(true);
    for (let i = 0; i < 8; i++) fireEvent.click(id('poll-draft-add-option'));
    expect(options()).toHaveLength(10);
    expect(screen.getByTestId<HTMLButtonElement>('poll-draft-add-option').disabled).toBe(true);
    options().forEach((o, i) => type(o, `o${i}`));
    fireEvent.click(screen.getAllByTestId('poll-draft-remove-option')[9]!);
    expect(options()).toHaveLength(9);

    vi.mocked(service.savePollDrafts).mockRejectedValueOnce(new AppError('storage', 'The poll drafts could not be saved: read-only'));
    fireEvent.click(id('poll-draft-save'));
    await waitFor(() => expect(id('poll-draft-error').textContent).toBe('The poll drafts could not be saved: read-only'));
    expect(screen.getByTestId<HTMLTextAreaElement>('poll-draft-question').value).toBe('Pick');
    expect(draftTexts()).toEqual([]);
  });

  it('are edited in place and deleted; the edit survives switching tabs', async () => {
    await openDrafts([pollDraft('First?'), pollDraft('Second?')]);
    fireEvent.click(screen.getAllByTestId('poll-draft-edit')[0]!);
    type(id('poll-draft-question'), 'First, really?');
    fireEvent.click(id('people-tab'));
    fireEvent.click(id('polls-tab'));
    expect(screen.getByTestId<HTMLTextAreaElement>('poll-draft-question').value).toBe('First, really?');
    fireEvent.click(id('poll-draft-save'));
    await waitFor(() => expect(draftTexts()).toEqual(['First, really?', 'Second?']));

    fireEvent.click(screen.getAllByTestId('poll-draft-delete')[1]!);
    await waitFor(() => expect(draftTexts()).toEqual(['First, really?']));
    expect(saved()).toEqual([
      [pollDraft('First, really?'), pollDraft('Second?')],
      [pollDraft('First, really?')],
    ]);
  });

  it('that cannot be read are said, with a way to try again', async () => {
    vi.mocked(service.pollDrafts).mockRejectedValueOnce(new AppError('storage', 'The poll drafts file (poll-drafts.json) is damaged'));
    vi.mocked(service.pollDrafts).mockResolvedValueOnce([pollDraft('Back?')]);
    renderRoom(host());
    openPolls();
    await waitFor(() => expect(id('poll-drafts-error').textContent).toContain('is damaged'));
    expect(screen.getByTestId<HTMLButtonElement>('poll-draft-new').disabled).toBe(true);
    fireEvent.click(id('poll-drafts-retry'));
    await waitFor(() => expect(draftTexts()).toEqual(['Back?']));
  });
});

describe('running a poll', () => {
  it('launches a draft, held while a poll is open; shows results and who voted live; closes it', async () => {
    vi.mocked(service.pollDrafts).mockResolvedValue([pollDraft('Ready?', { anonymous: false })]);
    renderRoom(host());
    openPolls();
    await waitFor(() => expect(screen.getByTestId<HTMLButtonElement>('poll-launch').disabled).toBe(false));
    fireEvent.click(id('poll-launch'));
    await waitFor(() =>
      expect(requests()).toEqual([{ type: 'poll_launch', poll: pollDraft('Ready?', { anonymous: false }) }]),
    );

    const launched = poll('p1', { question: 'Ready?', options: ['Yes', 'No'], anonymous: false, by: 'ada-1', results: [0, 0], voters: [] });
    emit(told(launched, 'req-1'));
    expect(screen.queryByTestId('polls-unread')).toBeNull();
    expect(screen.getByTestId<HTMLButtonElement>('poll-launch').disabled).toBe(true);
    expect(id('poll-launch-blocked').textContent).toBe('A poll is open: close it before launching another.');
    expect(id('poll-open').textContent).toContain('by you');
    expect(id('poll-results').dataset.results).toBe('0,0');

    emit(
      told({
        ...launched,
        votes: 2,
        results: [1, 1],
        voters: [
          { identity: 'bob-2', name: 'Bob', choices: [0] },
          { identity: 'cat-3', name: 'Cat', choices: [1] },
        ],
      }),
    );
    expect(id('poll-open').dataset.votes).toBe('2');
    expect(id('poll-results').dataset.results).toBe('1,1');
    expect(id('poll-results').textContent).toContain('1 · 50%');
    expect(screen.getAllByTestId('poll-voter').map((el) => el.textContent)).toEqual(['Bob: Yes', 'Cat: No']);

    fireEvent.click(id('poll-close'));
    await waitFor(() => expect(requests()).toHaveLength(2));
    expect(requests()[1]).toEqual({ type: 'poll_close', id: 'p1' });
    emit(told({ ...launched, state: 'closed', closed_at: T0 + 1000, votes: 2, results: [1, 1] }));
    expect(screen.queryByTestId('poll-open')).toBeNull();
    expect(screen.getByTestId<HTMLButtonElement>('poll-launch').disabled).toBe(false);
    expect(within(id('poll-closed')).getByTestId('poll-results').dataset.results).toBe('1,1');
  });

  it('says why a launch was refused', async () => {
    vi.mocked(service.pollDrafts).mockResolvedValue([pollDraft('Ready?')]);
    refuseNextPollRequest('poll `p7` is open; close it before launching another');
    renderRoom(student());
    // A presenter runs polls as the host does.
    emit({ type: 'participantUpdated', participant: participant('ada-1', 'Ada', { you: true, presenter: true }) });
    openPolls();
    await waitFor(() => expect(screen.getByTestId<HTMLButtonElement>('poll-launch').disabled).toBe(false));
    fireEvent.click(id('poll-launch'));
    await waitFor(() =>
      expect(id('toast').textContent).toContain("Couldn't launch the poll: poll `p7` is open; close it before launching another"),
    );
  });
});
