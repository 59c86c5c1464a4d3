// The lecture room's questions (issue #14) with the real app under Xvfb: the app hosts the
// room, so it is the presenter; headless students ask (one anonymously) and upvote; the
// presenter upvotes, pins and answers in the app. Then the app is killed, with its hosted
// relay, and started again: hosting the same title reopens the room, and the open
// questions are still there as they were (ids, texts, askers, votes, the pin), the
// answered one among the closed.
// Screenshots go to $STUDYHALL_SCREENSHOTS (the README's questions.png comes from here).
//
// Needs what harness.mjs says.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SELECT, alive, appBin, client, commandLine, descendants, desktop, exited, running, shot, tauriDriver, until } from './harness.mjs';

const TITLE = 'Logic lecture';
const MONAD = 'What is a monad?';
const EXAM = 'Is this on the exam?';
const PROOF = 'Could you go through the proof of lemma 2 again?';

/** The questions the app lists (open ones, then closed ones when unfolded), as shown; within `arguments[0]` when given. */
const LISTED = `return [...document.querySelectorAll(\`\${arguments[0] ?? ''} [data-testid=question-item]\`)].map((e) => ({
    id: e.dataset.questionId,
    state: e.dataset.state,
    votes: Number(e.dataset.votes),
    pinned: e.dataset.pinned === 'true',
    by: e.querySelector('[data-testid=question-by]').textContent,
    text: e.querySelector('[data-testid=question-text]').textContent,
    voted: e.querySelector('[data-testid=question-upvote]').getAttribute('aria-pressed') === 'true',
  }));`;

const item = (id) => `[data-testid=question-item][data-question-id="${id}"]`;

test('the app presents a lecture: students ask and upvote, the presenter answers; killed and started again, the open questions are still there', async (t) => {
  const { work, appData, env } = await desktop(t);
  const { driver, proc: driverProc } = await tauriDriver(t, env);

  /** Starts the app, hosts TITLE and opens the Questions tab; the invite code. */
  async function presentLecture() {
    await driver.start({ 'tauri:options': { application: appBin } });
    await driver.waitFor('the start screen, loaded', `const n = document.querySelector('[data-testid=display-name]'); return n && !n.disabled`, { timeout: 30000 });
    await driver.type('[data-testid=display-name]', 'Professor Church');
    await driver.type('[data-testid=host-title]', TITLE);
    await driver.click('[data-testid=host-submit]');
    await driver.waitFor('device setup', `return document.querySelector('[data-testid=select-camera]')`);
    assert.ok(await driver.exec(SELECT, '[data-testid=select-camera]', 'synthetic'), 'test pattern chosen');
    assert.ok(await driver.exec(SELECT, '[data-testid=select-microphone]', 'synthetic'), 'test tone chosen');
    await driver.waitFor('device setup ready', `const b = document.querySelector('[data-testid=setup-continue]'); return b && !b.disabled`);
    await driver.click('[data-testid=setup-continue]');
    await driver.waitFor('the room', `return document.querySelector('[data-testid=room]')`, { timeout: 40000 });
    await driver.click('[data-testid=open-invite]');
    const code = (await driver.waitFor('the invite code', `const e = document.querySelector('[data-testid=invite-code]'); return e && (e.value || e.textContent).trim()`)).trim();
    assert.match(code, /^[0-9A-Z]{4}-[0-9A-Z]{4}@127\.0\.0\.1:\d+$/, 'a short code with the host address');
    await driver.click('[data-testid=invite-dialog] .button--primary');
    await driver.waitFor('the invite dialog to close', `return !document.querySelector('[data-testid=invite-dialog]')`);
    await driver.click('[data-testid=toggle-questions]');
    await driver.waitFor('the questions tab', `return document.querySelector('[data-testid=questions-panel]')`);
    return code;
  }

  /** The app's process (tauri-driver → WebKitWebDriver → app) and the relay it hosts. */
  function appProcesses() {
    const app = descendants(driverProc.pid).filter((pid) => commandLine(pid)?.[0] === appBin);
    assert.equal(app.length, 1, `one app process under tauri-driver: ${app}`);
    const relay = descendants(app[0]).filter((pid) => commandLine(pid)?.includes(join(appData, 'hosted-relay')));
    assert.equal(relay.length, 1, `one hosted relay under the app: ${relay}`);
    return { app: app[0], relay: relay[0] };
  }

  try {
    const code = await presentLecture();

    // Students: Ada asks two questions anonymously, Bob one by name; each upvotes every
    // question of the other's. They stay 12 s, ten times what the presenter's part below
    // takes here, and have left before the app is killed.
    const dump = join(work, 'bob-questions.json');
    const ada = client([
      'join', '--invite', code, '--name', 'Ada', '--video', 'none', '--audio', 'none',
      '--ask', MONAD, '--ask', EXAM, '--ask-anonymously', '--upvote-all', '--duration', '12s',
    ]);
    const bob = client([
      'join', '--invite', code, '--name', 'Bob', '--video', 'none', '--audio', 'none',
      '--ask', PROOF, '--upvote-all', '--questions-dump', dump, '--duration', '12s',
    ]);

    // The presenter sees all three with the students' votes, and who asked, even
    // anonymously (other students do not: Bob sees Ada's as anonymous).
    const asked = await until('the three questions, each upvoted once', async () => {
      const list = await driver.exec(LISTED);
      return list.length === 3 && list.every((q) => q.state === 'open' && q.votes === 1) ? list : null;
    }, 40000);
    const byText = Object.fromEntries(asked.map((q) => [q.text, q]));
    assert.deepEqual(Object.keys(byText).sort(), [EXAM, MONAD, PROOF].sort(), 'the questions asked');
    assert.equal(byText[MONAD].by, 'Ada (anonymous)', 'the presenter sees who asked anonymously');
    assert.equal(byText[EXAM].by, 'Ada (anonymous)');
    assert.equal(byText[PROOF].by, 'Bob');
    const [monad, exam, proof] = [byText[MONAD].id, byText[EXAM].id, byText[PROOF].id];
    await until('Bob seeing Ada\'s questions as anonymous', async () =>
      bob.output.includes(`question ${monad} [open] 1 votes, by anonymous: ${MONAD}`));

    // The presenter upvotes the monad question (it goes first) and pins it as the one
    // being answered; the students see both.
    await driver.click(`${item(monad)} [data-testid=question-upvote]`);
    await driver.waitFor('our upvote counted', `const e = document.querySelector('${item(monad)}'); return e && e.dataset.votes === '2' && document.querySelector('[data-testid=question-item]').dataset.questionId === ${JSON.stringify(monad)}`);
    await driver.click(`${item(monad)} [data-testid=question-pin]`);
    await driver.waitFor('the question pinned', `const e = document.querySelector('${item(monad)}'); const now = document.querySelector('[data-testid=question-now]'); return e && e.dataset.pinned === 'true' && now && now.dataset.questionId === ${JSON.stringify(monad)}`);
    await until('Bob seeing it pinned with two votes', async () =>
      bob.output.includes(`question ${monad} [open, answering now] 2 votes, by anonymous: ${MONAD}`));

    // The presenter answers the exam question: it leaves the open list for the closed
    // ones, and the students are told.
    await driver.click(`${item(exam)} [data-testid=question-answer]`);
    await driver.waitFor('the exam question closed', `return !document.querySelector('[data-testid=questions-open] ${item(exam)}') && /Closed \\(1\\)/.test(document.querySelector('[data-testid=questions-closed-toggle]')?.textContent)`);
    await until('Ada told her question is answered', async () =>
      ada.output.includes(`question ${exam} [answered] 1 votes, by Ada (anonymous): ${EXAM}`));
    await until('Bob told it is answered', async () =>
      bob.output.includes(`question ${exam} [answered] 1 votes, by anonymous: ${EXAM}`));
    await shot(driver, 'questions.png');

    const before = await driver.exec(LISTED);
    assert.deepEqual(before.map((q) => q.id), [monad, proof], 'the open questions, most upvoted first');
    assert.deepEqual(before.map((q) => q.votes), [2, 1]);
    assert.deepEqual(before.map((q) => q.voted), [true, false], 'our vote is on the monad question');

    // The students leave; Bob's last view agrees with the presenter's.
    assert.equal(await exited(ada), 0, `Ada's client ran cleanly:\n${ada.output.slice(-3000)}`);
    assert.equal(await exited(bob), 0, `Bob's client ran cleanly:\n${bob.output.slice(-3000)}`);
    const seen = JSON.parse(readFileSync(dump, 'utf8'));
    // (In the relay's order, by votes then by when asked: Bob's and Ada's second came at
    // about the same time, so the dump is compared by id.)
    const byId = (a, b) => (a[0] < b[0] ? -1 : 1);
    assert.deepEqual(
      seen.map((q) => [q.id, q.state, q.votes, q.pinned, q.text]).sort(byId),
      [[monad, 'open', 2, true, MONAD], [proof, 'open', 1, false, PROOF], [exam, 'answered', 1, false, EXAM]].sort(byId),
      'Bob saw what the presenter sees',
    );

    // The app dies (no goodbye to anyone), and its relay with it.
    const first = appProcesses();
    process.kill(first.app, 'SIGKILL');
    spawnSync('pkill', ['-KILL', '-f', appData]);
    await until('the app and its relay gone', async () => !alive(first.app) && !alive(first.relay) && !running(appData), 10000);
    // The session's app is gone; the session goes too.
    await driver.quit().catch(() => {});

    // Started again, hosting the same title: the same room, at the same address, on a
    // new relay holding what the old one kept.
    const again = await presentLecture();
    assert.equal(again.split('@')[1], code.split('@')[1], 'the room reopens at the same address');
    assert.notEqual(appProcesses().relay, first.relay, 'a new relay');
    const after = await until('the open questions back', async () => {
      const list = await driver.exec(LISTED);
      return list.length === before.length ? list : null;
    }, 20000);
    assert.deepEqual(after, before, 'the open questions as they were: ids, texts, askers, votes, the pin, our vote');
    await driver.waitFor('the pinned question in the header', `const now = document.querySelector('[data-testid=question-now]'); return now && now.dataset.questionId === ${JSON.stringify(monad)}`);
    await driver.click('[data-testid=questions-closed-toggle]');
    const closed = await until('the closed questions', async () => {
      const list = await driver.exec(LISTED, '[data-testid=questions-closed]');
      return list.length ? list : null;
    });
    assert.deepEqual(
      closed.map((q) => [q.id, q.state, q.text, q.by]),
      [[exam, 'answered', EXAM, 'Ada (anonymous)']],
      'the answered question among the closed',
    );
  } catch (e) {
    await shot(driver, 'failure.png').catch(() => {});
    console.log('app output:\n' + driverProc.output.slice(-6000));
    throw e;
  }
});
