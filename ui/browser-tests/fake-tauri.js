// A stand-in for the Tauri shell, injected into the page before the app loads (Playwright
// addInitScript). It answers the commands of docs/app-ipc.md from in-page state and lets a
// test emit events, make commands fail or slow, and read what was called:
//   window.__fake.calls            [{cmd, args}] (every command: `set_view`'s too, each view sent)
//   window.__fake.fail(cmd, kind, message, times = 1)
//   window.__fake.delays[cmd] = ms
//   window.__fake.emit(event, payload)
//   window.__fake.state            settings, devices, others, chat, media, hands, timer, board,
//                                  study, view (the tiles of the latest `set_view` taken), ...
//                                  (once ready)
//   window.__fake.board            other participants' whiteboard requests and live strokes
//   window.__fake.questions        other participants' questions, votes, answers and pins
//   window.__fake.lecture          another host naming presenters, running the room as a
//                                  study room or a lecture, letting people speak, muting
//   window.__fake.reactions        another participant's reaction
//   window.__fake.polls            other participants launching, voting in and closing polls
//                                  (fake-polls.js, which also keeps the app's poll drafts)
//   window.__fake.materials        the room's shared files and the app's transfers
//                                  (fake-materials.js): others sharing and deleting files,
//                                  transfers held and moved on by a test
//   window.__fake.drag(type, paths) files dragged over the window (`enter`, `over`,
//                                  `drop`, `leave`), as the webview tells of them
//   window.__fake.groups           the study groups (fake-groups.js): members' presence,
//                                  someone joining, reminders, a relay lost
// Optional config before this script: window.__FAKE_CONFIG__ = {mediaEndpoint, devices, ...};
// for the whiteboard: board (the board held), boardPartObjects (most objects in one
// board_snapshot part), boardPartDelayMs (the time between parts), boardAckFirst (answer
// our board requests before sending their ops); for the lecture: presenters (identities),
// lecture ({mode, started_at, locked, everyone_speaks, speakers}, the rest of the room's
// LectureState), questions (as the relay stores them: {id, text, asked_at, anonymous, by,
// by_name, voters, state}), pinned (a question's id); for polls: pollDrafts, polls (see
// fake-polls.js); for materials: materials, files, picks, saveDir, transferSteps,
// transferStepMs (see fake-materials.js); for study groups: groups, blocks, hidden,
// importReport, calendarExport (see fake-groups.js); hostUpload (what `host_upload`
// answers while hosting; a test may change `state.hostUpload`).
//
// Its answers are built by the fixtures the vitest mock uses too (ui/src/test/fixtures.js),
// which the test server serves at /__test__/fixtures.js: this script is a classic script,
// so it loads them with import() and every command waits for them. The polls and the
// materials and the study groups live in modules of their own, loaded the same way
// (/__test__/fake-polls.js, /__test__/fake-materials.js, /__test__/fake-groups.js).
// Test-only: never part of the app bundle.
(() => {
  const config = window.__FAKE_CONFIG__ || {};
  const callbacks = new Map();
  const listeners = new Map(); // event -> [{eventId, handlerId}]
  let nextCallback = 1;
  let nextEventId = 1;

  const RELAY = '192.168.1.20:7450';
  const ME = 'me-1';
  // The relay's limits on questions (protocol `questions.rs`).
  const MAX_QUESTION_BYTES = 1000;
  const MAX_QUESTIONS_PER_ROOM = 500;
  const QUESTIONS_PER_MINUTE = 5;
  // The relay's rate of reactions (protocol `reactions.rs`): a burst of 5, then 2 a second.
  const REACTION_BURST = 5;
  const REACTIONS_PER_SECOND = 2;
  const REACTIONS = ['thumbs_up', 'clap', 'laugh', 'question', 'party'];
  /** The shared fixtures module (set once loaded). */
  let fx = null;
  let state = null;
  /** The room's polls and the app's poll drafts (fake-polls.js, set once loaded). */
  let polls = null;
  /** The room's files and the app's transfers (fake-materials.js, set once loaded). */
  let materials = null;
  /** The study groups (fake-groups.js, set once loaded). */
  let groups = null;

  function initialState() {
    return {
      settings: fx.settings(config.settings || {}),
      devices: config.devices || fx.devices(),
      mediaEndpoint: config.mediaEndpoint || null,
      others: config.others || [fx.participant('bob-2', 'Bob', { joinedAt: 2 })],
      chat: config.chat || fx.chatPage(),
      olderChat: config.olderChat || fx.chatPage(),
      media: fx.media(),
      presence: 'active',
      hands: config.hands || [],
      // The room's focus timer, kept and moved on as the relay would (see timerRequests).
      timer: fx.timerState({ ...(config.timer || {}) }),
      timerEnds: null, // the pending phase_ended
      // The room's whiteboard, changed as the relay would (see boardRequests).
      board: config.board || {
        id: 'b0a4d1c9e2f37658',
        seq: 0,
        access: { everyone: false, drawers: [] },
        pages: [{ id: 'page-1', objects: [] }],
      },
      boardOps: [], // every board_op sent, for syncs since a seq
      // Each identity's history (as the relay keeps it): the inverses of its changes.
      boardUndo: {}, // identity -> [change]
      boardRedo: {},
      boardParts: [], // every board_snapshot part sent
      // The lecture and its questions, as the relay keeps them (see questionRequests).
      presenters: config.presenters || [],
      // The rest of the room's LectureState (see lectureRequests).
      lecture: {
        mode: 'study',
        started_at: null,
        locked: false,
        everyone_speaks: false,
        speakers: [],
        ...(config.lecture || {}),
      },
      admitted: false, // we joined once: a locked room still takes us back
      reactBucket: { tokens: REACTION_BURST, at: 0 },
      questions: config.questions || [],
      pinned: config.pinned || null,
      nextQuestion: 1,
      askBucket: { tokens: QUESTIONS_PER_MINUTE, at: 0 },
      study: fx.studySummary(config.study || {}),
      exportPath: config.exportPath || '/home/ada/Downloads/studyhall-study-2026-12-05.csv',
      hosting: null,
      hostUpload: config.hostUpload || { bitsPerSecond: 4_200_000, budgetBitsPerSecond: 25_000_000, heldSmall: 0, paused: 0 },
      inRoom: false,
      seq: 100,
      sent: new Map(), // clientMsgId -> stored message
      view: null, // the tiles of the latest set_view taken (null: none yet, everything is sent)
      maxChatBytes: config.maxChatBytes || 200,
    };
  }

  const load = (url) => import(new URL(url, location.href).href);
  const ready = Promise.all([
    load(config.fixturesUrl || '/__test__/fixtures.js'),
    load(config.pollsUrl || '/__test__/fake-polls.js'),
    load(config.materialsUrl || '/__test__/fake-materials.js'),
    load(config.groupsUrl || '/__test__/fake-groups.js'),
  ]).then(([fixtures, pollsModule, materialsModule, groupsModule]) => {
    fx = fixtures;
    state = initialState();
    fake.state = state;
    polls = pollsModule.fakePolls(
      {
        me: ME,
        myName: () => state.settings.displayName,
        nameOf: (identity) => state.others.find((p) => p.identity === identity)?.name ?? identity,
        presents: (identity) => presents(identity),
        tell: (event) => fake.emit('room-event', { type: 'feature', event }),
      },
      config,
    );
    materials = materialsModule.fakeMaterials(
      {
        me: ME,
        myName: () => state.settings.displayName,
        host: () => state.hosting !== null,
        presents: (identity) => presents(identity),
        nameOf: (identity) => state.others.find((p) => p.identity === identity)?.name ?? identity,
        tell: (event) => fake.emit('room-event', { type: 'feature', event }),
        transfer: (t) => fake.emit('material-transfer', t),
        chat: (message) => fake.emit('room-event', { type: 'chatMessage', message: { seq: ++state.seq, ...message } }),
      },
      config,
    );
    fake.materials = materials;
    groups = groupsModule.fakeGroups(
      {
        me: ME,
        myName: () => state.settings.displayName,
        tell: (view) => fake.emit('groups-changed', view),
        remind: (reminder) => fake.emit('session-reminder', reminder),
        // A group's room is entered as `join_room` enters the fake room, titled with the group's name.
        enterRoom: (title, media) => {
          if (state.inRoom) throw { kind: 'alreadyInRoom', message: 'You are already in a room; leave it first.' };
          state.title = title;
          state.media = { ...state.media, mic: media.mic, camera: media.camera };
          return commands.join_room({ invite: `K7QX-29FD@${RELAY}`, media });
        },
      },
      config,
    );
    fake.groups = groups;
  });

  const fake = {
    state: null,
    ready,
    calls: [],
    failures: {},
    delays: {},
    fail(cmd, kind, message, times = 1) {
      const list = (fake.failures[cmd] ||= []);
      for (let i = 0; i < times; i++) list.push({ kind, message });
    },
    emit(event, payload) {
      // The fake keeps the queue it told the app about, as the relay would.
      if (state && event === 'room-event' && payload.type === 'feature' && payload.event.type === 'hand_queue') {
        state.hands = payload.event.hands;
      }
      if (state && event === 'room-event' && payload.type === 'feature' && payload.event.type === 'lecture') {
        const { presenters, ...rest } = structuredClone(payload.event.lecture);
        state.presenters = presenters;
        state.lecture = rest;
      }
      if (state && event === 'room-event' && payload.type === 'feature' && payload.event.type === 'timer') {
        // A copy: the page's state must not change when the fake moves its timer on.
        state.timer = structuredClone(payload.event.timer);
        scheduleTimer();
      }
      for (const { eventId, handlerId } of listeners.get(event) || []) {
        const cb = callbacks.get(handlerId);
        if (cb) cb({ event, id: eventId, payload });
      }
    },
    // The whiteboard of the room, driven by a test as other participants would:
    //   board.request(request, by)   a board request of `by` (not checked against the
    //                                access: the test says what they may do)
    //   board.live(by, fields)       `by`'s stroke being drawn, as the relay forwards it
    //   board.offline = true         board events are not sent (the app's connection is
    //                                down): it misses them until it syncs
    board: {
      offline: false,
      request: (request, by) => boardRequest(request, by),
      live: (by, fields) => boardEmit({ type: 'board_live', by, from: 0, ...fields }),
    },
    // The questions of the room, driven by a test as other participants would (not
    // checked against their roles: the test says what they may do). Each returns what the
    // relay would answer: the new question's id for `ask`.
    questions: {
      ask: (by, name, text, anonymous = false) => askQuestion({ text, anonymous }, by, name),
      upvote: (id, by) => questionRequest({ type: 'question_upvote', id }, by),
      close: (id, outcome, by) => questionRequest({ type: 'question_close', id, outcome }, by),
      pin: (id, by) => questionRequest({ type: 'question_pin', id }, by),
    },
    // Another host (`by`): makes `identity` a presenter, or takes it back; makes any other
    // lecture request (`set_room_mode`, `lock_room`, `mute_all`, `allow_speaking`).
    lecture: {
      set: (identity, presenter, by) => setPresenter(identity, presenter, by),
      request: (request, by) => lectureRequest(request, by),
    },
    // Another participant reacts (the relay sends it to everyone).
    reactions: {
      react: (identity, reaction) => reactionEvent(identity, reaction),
    },
    // The room's polls, driven by a test as other participants would: another presenter
    // (`by`) launches a draft (returns the new poll's id) or closes a poll; `identity`
    // votes (its name as the room knows it unless given). The relay's rules apply but
    // the roles: the test says who may.
    polls: {
      launch: (draft, by) => polls.launch(draft, by),
      vote: (identity, id, choices, name) => polls.vote(identity, id, choices, name),
      close: (id, by) => polls.close(id, by),
      drafts: () => polls.drafts(),
      stored: () => polls.stored(),
    },
    // The room's files and the app's transfers (fake-materials.js; set once loaded):
    // share(file, by), remove(id, by), hold, step(id), release(), stored(), running().
    materials: null,
    // The study groups (fake-groups.js; set once loaded): presence(group, identity,
    // presence), join(group, identity, name), remind(reminder), unreachable(group,
    // problem), view().
    groups: null,
    // Files dragged over the window, as the webview's drag and drop tells of them.
    drag(type, paths = []) {
      const position = { x: 400, y: 300 };
      const payload = type === 'leave' ? null : type === 'over' ? { position } : { paths, position };
      fake.emit(`tauri://drag-${type}`, payload);
    },
    listenerCount(event) {
      return (listeners.get(event) || []).length;
    },
  };

  function you() {
    return fx.participant(ME, state.settings.displayName, {
      host: state.hosting !== null,
      presenter: state.hosting === null && state.presenters.includes(ME),
      you: true,
      media: { ...state.media },
      presence: state.presence,
      joinedAt: 1,
    });
  }

  function handQueue(hands, by) {
    fake.emit('room-event', { type: 'feature', event: { type: 'hand_queue', hands, by } });
  }

  function lowerHand(identity) {
    if (!state.hands.some((h) => h.identity === identity)) return;
    handQueue(
      state.hands.filter((h) => h.identity !== identity),
      ME,
    );
  }

  // The focus timer, as the relay's state machine runs it: focus, a short break after each
  // round but the last, a long break after it, then round 1 again.
  const TIMER_RANGES = [
    ['focus_secs', 60, 4 * 3600, 's'],
    ['short_break_secs', 60, 3600, 's'],
    ['long_break_secs', 60, 2 * 3600, 's'],
    ['rounds', 1, 12, ''],
  ];
  const PHASE_SECS = { focus: 'focus_secs', short_break: 'short_break_secs', long_break: 'long_break_secs' };

  function checkTimerSettings(settings) {
    for (const [field, min, max, unit] of TIMER_RANGES) {
      const v = settings[field];
      if (!Number.isInteger(v) || v < min || v > max) {
        throw { kind: 'refused', message: `${field} must be between ${min}${unit} and ${max}${unit} (got ${v}${unit})` };
      }
    }
  }

  function beginPhase(phase, round, startMs) {
    const phaseMs = state.timer.settings[PHASE_SECS[phase]] * 1000;
    return { phase, round, phase_ms: phaseMs, ends_at: startMs + phaseMs, remaining_ms: phaseMs, paused: false };
  }

  function nextPhase(run, startMs) {
    const rounds = state.timer.settings.rounds;
    if (run.phase === 'focus') return beginPhase(run.round >= rounds ? 'long_break' : 'short_break', run.round, startMs);
    if (run.phase === 'short_break') return beginPhase('focus', Math.min(run.round + 1, rounds), startMs);
    return beginPhase('focus', 1, startMs);
  }

  /** Sends the timer's state as of now to everyone (us), as the relay does on a change. */
  function timerChanged(change, by) {
    const now = Date.now();
    const run = state.timer.run && { ...state.timer.run };
    if (run && !run.paused) run.remaining_ms = Math.max(0, run.ends_at - now);
    const timer = { ...state.timer, run, now };
    fake.emit('room-event', { type: 'feature', event: by ? { type: 'timer', timer, change, by } : { type: 'timer', timer, change } });
  }

  /** Ends the running phase when its time is up (`phase_ended`, from the relay). */
  function scheduleTimer() {
    clearTimeout(state.timerEnds);
    const run = state.timer.run;
    if (!run || run.paused) return;
    state.timerEnds = setTimeout(() => {
      if (run.phase === 'focus') state.timer.focus_completed += 1;
      state.timer.run = nextPhase(run, run.ends_at);
      timerChanged('phase_ended', null);
    }, Math.max(0, run.ends_at - Date.now()));
  }

  function timerRequest(request) {
    const host = state.hosting !== null;
    if (request.type === 'timer_options' ? !host : !host && !state.timer.anyone_controls) {
      throw { kind: 'refused', message: 'host: only a host controls the timer (a host can allow everyone)' };
    }
    const now = Date.now();
    const timer = state.timer;
    const run = timer.run;
    if (['timer_pause', 'timer_resume', 'timer_skip'].includes(request.type) && !run) {
      throw { kind: 'refused', message: 'the timer is stopped: start it first' };
    }
    let change = null;
    switch (request.type) {
      case 'timer_start':
        if (request.settings) {
          checkTimerSettings(request.settings);
          timer.settings = { ...request.settings };
        }
        timer.run = beginPhase('focus', 1, now);
        timer.focus_completed = 0;
        change = 'started';
        break;
      case 'timer_pause':
        if (!run.paused) {
          timer.run = { ...run, remaining_ms: Math.max(0, run.ends_at - now), ends_at: null, paused: true };
          change = 'paused';
        }
        break;
      case 'timer_resume':
        if (run.paused) {
          timer.run = { ...run, ends_at: now + run.remaining_ms, paused: false };
          change = 'resumed';
        }
        break;
      case 'timer_skip': {
        const next = nextPhase(run, now);
        timer.run = run.paused ? { ...next, ends_at: null, paused: true } : next;
        change = 'skipped';
        break;
      }
      case 'timer_stop':
        if (run) {
          timer.run = null;
          change = 'stopped';
        }
        break;
      case 'timer_options':
        if (request.settings) {
          checkTimerSettings(request.settings);
          timer.settings = { ...request.settings };
        }
        if (request.anyone_controls != null) timer.anyone_controls = request.anyone_controls;
        if (request.quiet_during_focus != null) timer.quiet_during_focus = request.quiet_during_focus;
        change = 'options';
        break;
    }
    if (change) timerChanged(change, ME);
  }

  // The lecture, as the relay runs it: the host names presenters, runs the room as a study
  // room or a lecture, lets students speak, mutes and locks; everyone hears the whole state
  // (`lecture`), then whoever's role or media changed is updated (`participant_updated`).
  function lectureState() {
    return { presenters: [...state.presenters], ...structuredClone(state.lecture) };
  }

  function lectureChanged(by) {
    fake.emit('room-event', { type: 'feature', event: { type: 'lecture', lecture: lectureState(), by } });
  }

  /** Whether `identity` may turn `source` (mic, camera, screen) on now (`may_send`). */
  function maySend(identity, source) {
    const lecture = state.lecture;
    if (lecture.mode === 'study' || presents(identity)) return true;
    if (source === 'screen') return false;
    return lecture.everyone_speaks || lecture.speakers.includes(identity);
  }

  /**
   * Turns off each source the lecture does not allow now (`onlyMic`: the microphones of
   * all who do not present), telling everyone whose media changed.
   */
  function enforce(onlyMic) {
    const off = (identity, media) => {
      const next = { ...media };
      for (const source of onlyMic ? ['mic'] : ['mic', 'camera', 'screen']) {
        const allowed = onlyMic ? presents(identity) : maySend(identity, source);
        if (next[source] && !allowed) next[source] = false;
      }
      return ['mic', 'camera', 'screen'].some((k) => next[k] !== media[k]) ? next : null;
    };
    const mine = off(ME, state.media);
    if (mine) {
      state.media = mine;
      fake.emit('room-event', { type: 'participantUpdated', participant: you() });
    }
    state.others = state.others.map((p) => {
      const media = off(p.identity, p.media);
      if (!media) return p;
      const changed = { ...p, media };
      fake.emit('room-event', { type: 'participantUpdated', participant: changed });
      return changed;
    });
  }

  function setPresenter(identity, presenter, by) {
    if (presenter === state.presenters.includes(identity)) return;
    if (presenter && state.presenters.length >= 20) {
      throw { kind: 'refused', message: 'presenters: a room has at most 20' };
    }
    state.presenters = presenter ? [...state.presenters, identity] : state.presenters.filter((p) => p !== identity);
    lectureChanged(by);
    if (identity === ME) {
      fake.emit('room-event', { type: 'participantUpdated', participant: you() });
    } else {
      const at = state.others.findIndex((p) => p.identity === identity);
      if (at >= 0 && !state.others[at].host) {
        state.others[at] = { ...state.others[at], presenter };
        fake.emit('room-event', { type: 'participantUpdated', participant: state.others[at] });
      }
    }
    if (!presenter) enforce(false);
  }

  /** A host's lecture request (`by`: ME unless another host's, from a test). */
  function lectureRequest(request, by = ME) {
    if (by === ME && state.hosting === null) {
      throw { kind: 'refused', message: `\`${request.type}\` needs the \`host\` grant, which this token does not have` };
    }
    const lecture = state.lecture;
    switch (request.type) {
      case 'set_presenter':
        return setPresenter(request.identity, request.presenter, by);
      case 'mute_all':
        return enforce(true);
      case 'set_room_mode':
        if (request.mode !== 'study' && request.mode !== 'lecture') {
          throw { kind: 'invalidInput', message: `unknown room mode ${request.mode}` };
        }
        if (request.mode === lecture.mode) return;
        lecture.mode = request.mode;
        lecture.started_at = request.mode === 'lecture' ? (lecture.started_at ?? Date.now()) : null;
        lectureChanged(by);
        return enforce(false);
      case 'lock_room':
        if (!!request.locked === lecture.locked) return;
        lecture.locked = !!request.locked;
        return lectureChanged(by);
      case 'allow_speaking': {
        const identity = request.identity ?? null;
        if (identity === null) {
          const before = JSON.stringify([lecture.everyone_speaks, lecture.speakers]);
          lecture.everyone_speaks = !!request.allowed;
          if (!request.allowed) lecture.speakers = [];
          if (before === JSON.stringify([lecture.everyone_speaks, lecture.speakers])) return;
        } else {
          if (!!request.allowed === lecture.speakers.includes(identity)) return;
          lecture.speakers = request.allowed
            ? [...lecture.speakers, identity]
            : lecture.speakers.filter((s) => s !== identity);
        }
        lectureChanged(by);
        return enforce(false);
      }
    }
    throw { kind: 'invalidInput', message: `unknown feature request ${request.type}` };
  }

  // Reactions, as the relay sends them: to everyone, the sender too; ours over the rate
  // are refused.
  function reactionEvent(identity, reaction) {
    fake.emit('room-event', { type: 'feature', event: { type: 'reaction', identity, reaction } });
  }

  function react({ reaction }) {
    if (!REACTIONS.includes(reaction)) throw { kind: 'invalidInput', message: `unknown reaction ${reaction}` };
    const now = Date.now();
    const bucket = state.reactBucket;
    bucket.tokens = Math.min(REACTION_BURST, bucket.tokens + ((now - bucket.at) / 1000) * REACTIONS_PER_SECOND);
    bucket.at = now;
    if (bucket.tokens < 1) {
      const wait = Math.max(1, Math.ceil(((1 - bucket.tokens) / REACTIONS_PER_SECOND) * 1000));
      throw {
        kind: 'rateLimited',
        message: `reactions_per_second: at most ${REACTIONS_PER_SECOND} a second (a burst of ${REACTION_BURST}); try again in ${wait} ms`,
      };
    }
    bucket.tokens -= 1;
    reactionEvent(ME, reaction);
  }

  /** Whether `identity` runs the lecture (draws, answers questions): the host or a presenter. */
  function presents(identity) {
    if (identity === ME) return state.hosting !== null || state.presenters.includes(ME);
    return state.presenters.includes(identity) || state.others.some((p) => p.identity === identity && p.host);
  }

  // Questions, as the relay keeps them: each participant is told of a question as they see
  // it (an anonymous asker's name only to the host, presenters and the asker). The page is
  // the only one listening here, so it is told its own cut.
  function questionView(q) {
    const mine = q.by === ME;
    const shown = !q.anonymous || mine || presents(ME);
    return {
      id: q.id,
      text: q.text,
      asked_at: q.asked_at,
      anonymous: q.anonymous,
      by: shown ? q.by : null,
      by_name: shown ? q.by_name : null,
      votes: q.voters.length,
      voted: q.voters.includes(ME),
      mine,
      state: q.state,
      pinned: state.pinned === q.id,
    };
  }

  /** The protocol's list order: most votes first, then the earliest asked, then the id. */
  function listOrder(a, b) {
    return b.votes - a.votes || a.asked_at - b.asked_at || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
  }

  function tellQuestion(id, requestId) {
    const q = state.questions.find((x) => x.id === id);
    if (!q) return;
    const event = { type: 'question', question: questionView(q) };
    if (requestId) event.request_id = requestId;
    fake.emit('room-event', { type: 'feature', event });
  }

  function findQuestion(id) {
    const q = state.questions.find((x) => x.id === id);
    if (!q) throw { kind: 'refused', message: `no question \`${id}\` in this room` };
    return q;
  }

  function askQuestion({ text, anonymous }, by = ME, name = state.settings.displayName) {
    const checked = String(text).trim().replace(/\r\n/g, '\n');
    if (checked === '') throw { kind: 'invalidInput', message: 'question text is empty' };
    const bytes = new TextEncoder().encode(checked).length;
    if (bytes > MAX_QUESTION_BYTES) {
      throw { kind: 'invalidInput', message: `question_bytes: a question has at most ${MAX_QUESTION_BYTES} bytes (got ${bytes})` };
    }
    if (by === ME) {
      // A burst of 5, then one every 12 s (the relay's token bucket).
      const now = Date.now();
      const bucket = state.askBucket;
      const refill = 60_000 / QUESTIONS_PER_MINUTE;
      bucket.tokens = Math.min(QUESTIONS_PER_MINUTE, bucket.tokens + (now - bucket.at) / refill);
      bucket.at = now;
      if (bucket.tokens < 1) {
        const wait = Math.max(1, Math.ceil(((1 - bucket.tokens) * refill) / 1000));
        throw { kind: 'rateLimited', message: `questions_per_minute: at most ${QUESTIONS_PER_MINUTE} a minute; ask again in ${wait} s` };
      }
      bucket.tokens -= 1;
    }
    if (state.questions.length >= MAX_QUESTIONS_PER_ROOM) {
      throw { kind: 'refused', message: `questions_per_room: a room keeps at most ${MAX_QUESTIONS_PER_ROOM}` };
    }
    const id = `q${state.nextQuestion++}`;
    state.questions.push({ id, text: checked, asked_at: Date.now(), anonymous: !!anonymous, by, by_name: name, voters: [], state: 'open' });
    tellQuestion(id, by === ME ? `req-${id}` : undefined);
    return id;
  }

  function questionRequest(request, by = ME) {
    if (request.type === 'question_ask') return askQuestion(request, by);
    if (by === ME && request.type !== 'question_upvote' && !presents(ME)) {
      const what = request.type === 'question_pin' ? 'pin questions' : 'answer or dismiss questions';
      throw { kind: 'refused', message: `only presenters and the host can ${what}` };
    }
    switch (request.type) {
      case 'question_upvote': {
        const q = findQuestion(request.id);
        if (q.state !== 'open') {
          throw { kind: 'refused', message: `question \`${q.id}\` is ${q.state}; only open ones take votes` };
        }
        if (q.voters.includes(by)) return null;
        q.voters.push(by);
        tellQuestion(q.id);
        return null;
      }
      case 'question_close': {
        const q = findQuestion(request.id);
        // Two presenters closing one question: the first one counts.
        if (q.state !== 'open') return null;
        q.state = request.outcome;
        if (state.pinned === q.id) state.pinned = null;
        tellQuestion(q.id);
        return null;
      }
      case 'question_pin': {
        if (request.id != null) {
          const q = findQuestion(request.id);
          if (q.state !== 'open') {
            throw { kind: 'refused', message: `question \`${q.id}\` is ${q.state}; only open ones can be pinned` };
          }
        }
        const next = request.id ?? null;
        if (state.pinned === next) return null;
        const before = state.pinned;
        state.pinned = next;
        for (const id of [before, next]) if (id !== null) tellQuestion(id);
        return null;
      }
    }
    throw { kind: 'invalidInput', message: `unknown feature request ${request.type}` };
  }

  // The whiteboard, as the relay keeps it: a small version of the protocol's
  // `Board::apply` for the changes this shell makes, each sent to us as a `board_op`.
  function boardPage(id) {
    const page = state.board.pages.find((p) => p.id === id);
    if (!page) throw { kind: 'refused', message: `no page "${id}" on the board` };
    return page;
  }

  /** Apply a change; returns the change that undoes it. */
  function boardApply(change) {
    const board = state.board;
    switch (change.op) {
      case 'add': {
        const page = boardPage(change.page);
        if (board.pages.some((p) => p.objects.some((o) => o.id === change.object.id))) {
          throw { kind: 'refused', message: `an object "${change.object.id}" is already on the board` };
        }
        page.objects.push(change.object);
        return { op: 'erase', page: change.page, ids: [change.object.id] };
      }
      case 'update': {
        const page = boardPage(change.page);
        const at = page.objects.findIndex((o) => o.id === change.object.id);
        if (at < 0) throw { kind: 'refused', message: `no object "${change.object.id}" on that page` };
        const old = page.objects[at];
        page.objects[at] = change.object;
        return { op: 'update', page: change.page, object: old };
      }
      case 'erase': {
        const page = boardPage(change.page);
        const missing = change.ids.find((id) => !page.objects.some((o) => o.id === id));
        if (missing !== undefined) throw { kind: 'refused', message: `no object "${missing}" on that page` };
        const removed = [];
        page.objects = page.objects.filter((object, index) => {
          if (!change.ids.includes(object.id)) return true;
          removed.push({ index, object });
          return false;
        });
        return { op: 'restore', page: change.page, objects: removed };
      }
      case 'clear': {
        const page = boardPage(change.page);
        const removed = page.objects.map((object, index) => ({ index, object }));
        page.objects = [];
        return { op: 'restore', page: change.page, objects: removed };
      }
      case 'restore': {
        const page = boardPage(change.page);
        for (const { index, object } of change.objects) page.objects.splice(Math.min(index, page.objects.length), 0, object);
        return { op: 'erase', page: change.page, ids: change.objects.map((o) => o.object.id) };
      }
      case 'add_page': {
        if (board.pages.some((p) => p.id === change.page)) throw { kind: 'refused', message: 'that page is already on the board' };
        const page = { id: change.page, objects: [] };
        if (change.annotates) page.annotates = change.annotates;
        board.pages.splice(Math.min(change.index, board.pages.length), 0, page);
        return { op: 'remove_page', page: change.page };
      }
      case 'remove_page': {
        const at = board.pages.findIndex((p) => p.id === change.page);
        if (at < 0) throw { kind: 'refused', message: `no page "${change.page}" on the board` };
        const page = board.pages[at];
        if (!page.annotates && board.pages.filter((p) => !p.annotates).length === 1) {
          throw { kind: 'refused', message: 'a board keeps at least one page (clear it instead)' };
        }
        board.pages.splice(at, 1);
        return { op: 'restore_page', index: at, page };
      }
      case 'restore_page':
        board.pages.splice(Math.min(change.index, board.pages.length), 0, change.page);
        return { op: 'remove_page', page: change.page.id };
      case 'move_page': {
        const at = board.pages.findIndex((p) => p.id === change.page);
        if (at < 0) throw { kind: 'refused', message: `no page "${change.page}" on the board` };
        const [page] = board.pages.splice(at, 1);
        board.pages.splice(Math.min(change.index, board.pages.length), 0, page);
        return { op: 'move_page', page: change.page, index: at };
      }
      case 'annotates': {
        const page = boardPage(change.page);
        const old = page.annotates ?? null;
        if (change.annotates) page.annotates = change.annotates;
        else delete page.annotates;
        return { op: 'annotates', page: change.page, annotates: old };
      }
      case 'access': {
        const old = board.access;
        board.access = change.access;
        return { op: 'access', access: old };
      }
    }
    throw { kind: 'refused', message: `unknown change ${change.op}` };
  }

  /**
   * Send a board event to the page. The answer to our request may come before or after
   * our own copy of its op (protocol); with `boardAckFirst` (config) it comes before.
   */
  function boardEmit(event) {
    const send = () => fake.emit('room-event', { type: 'feature', event });
    if (fake.board.offline) return;
    if (config.boardAckFirst) setTimeout(send, 0);
    else send();
  }

  /** Apply, number and send a change (a copy: the page's state must not share objects). */
  function boardCommit(change, by = ME) {
    const inverse = boardApply(structuredClone(change));
    state.board.seq += 1;
    const op = { type: 'board_op', seq: state.board.seq, by, at: Date.now(), change };
    state.boardOps.push(op);
    boardEmit(structuredClone(op));
    return inverse;
  }

  /**
   * An undo or redo fitted to the board as it is now (as the relay does, simply): objects
   * erased since, or back already, are left out; null when nothing of it is left.
   */
  function boardFit(change) {
    const has = (id) => state.board.pages.some((p) => p.objects.some((o) => o.id === id));
    const page = change.page === undefined ? null : state.board.pages.find((p) => p.id === change.page);
    if (change.page !== undefined && change.op !== 'restore_page' && !page) return null;
    if (change.op === 'erase') {
      const ids = change.ids.filter((id) => page.objects.some((o) => o.id === id));
      return ids.length > 0 ? { ...change, ids } : null;
    }
    if (change.op === 'restore') {
      const objects = change.objects.filter((o) => !has(o.object.id));
      return objects.length > 0 ? { ...change, objects } : null;
    }
    if (change.op === 'update') return page.objects.some((o) => o.id === change.object.id) ? change : null;
    return change;
  }

  /** Each part's pages: at most `perPart` objects a part (a page may go on in the next). */
  function snapshotParts(pages, perPart) {
    const parts = [[]];
    let count = 0;
    for (const page of pages) {
      const head = page.annotates ? { id: page.id, annotates: page.annotates } : { id: page.id };
      if (count >= perPart && page.objects.length > 0) {
        parts.push([]);
        count = 0;
      }
      let piece = { ...head, objects: [] };
      parts.at(-1).push(piece);
      for (const object of page.objects) {
        if (count >= perPart) {
          piece = { ...head, objects: [] };
          parts.push([piece]);
          count = 0;
        }
        piece.objects.push(object);
        count += 1;
      }
    }
    return parts;
  }

  function boardSummary() {
    const { id, seq, access, pages } = state.board;
    return { id, seq, access, pages: pages.map((p) => ({ ...(p.annotates ? { id: p.id, annotates: p.annotates } : { id: p.id }), objects: p.objects.length })) };
  }

  function boardRequest(request, by = ME) {
    if (request.type === 'board_sync') {
      const { id, seq } = state.board;
      if (request.board === id && request.since !== null && request.since <= seq) {
        for (const op of state.boardOps.filter((o) => o.seq > request.since)) {
          boardEmit(structuredClone(op));
        }
        boardEmit({ type: 'board_synced', board: id, seq });
      } else {
        // The whole board, in parts of at most `boardPartObjects` objects (config), sent
        // `boardPartDelayMs` apart (config; else at once).
        const board = structuredClone(state.board);
        const parts = snapshotParts(board.pages, config.boardPartObjects || 500);
        const send = (part) => {
          const event = {
            type: 'board_snapshot',
            board: board.id,
            seq: board.seq,
            access: board.access,
            part,
            last: part === parts.length - 1,
            pages: parts[part],
          };
          state.boardParts.push(structuredClone(event));
          boardEmit(event);
        };
        if (!config.boardPartDelayMs) parts.forEach((_, part) => send(part));
        else parts.forEach((_, part) => setTimeout(() => send(part), (part + 1) * config.boardPartDelayMs));
      }
      return;
    }
    const host = by === ME && state.hosting !== null;
    const access = state.board.access;
    if (by === ME && request.type === 'board_set_access' && !host) {
      throw { kind: 'refused', message: '`board_set_access` needs the `host` grant, which this token does not have' };
    }
    // Presenters draw as the host does.
    if (by === ME && !presents(ME) && !access.everyone && !access.drawers.includes(ME)) {
      throw { kind: 'refused', message: 'draw: only hosts and presenters draw on this whiteboard (a host can open it to everyone or to you)' };
    }
    if (request.type === 'board_live') {
      // To everyone but the drawer.
      if (by !== ME) {
        const fields = { ...request };
        delete fields.type;
        fake.board.live(by, fields);
      }
      return;
    }
    const undos = (state.boardUndo[by] ||= []);
    const redos = (state.boardRedo[by] ||= []);
    if (request.type === 'board_undo' || request.type === 'board_redo') {
      const undoing = request.type === 'board_undo';
      const [from, to] = undoing ? [undos, redos] : [redos, undos];
      for (;;) {
        const kept = from.pop();
        if (!kept) throw { kind: 'refused', message: `nothing of yours to ${undoing ? 'undo' : 'redo'}` };
        const fitted = boardFit(kept);
        if (fitted === null) continue;
        to.push(boardCommit(fitted, by));
        return;
      }
    }
    const changes = {
      board_add: (r) => ({ op: 'add', page: r.page, object: { ...r.object, author: by } }),
      board_update: (r) => ({ op: 'update', page: r.page, object: { ...r.object, author: by } }),
      board_erase: (r) => ({ op: 'erase', page: r.page, ids: r.ids }),
      board_clear: (r) => ({ op: 'clear', page: r.page }),
      board_add_page: (r) => ({
        op: 'add_page',
        page: r.page,
        index: r.index ?? state.board.pages.length,
        ...(r.annotates ? { annotates: r.annotates } : {}),
      }),
      board_remove_page: (r) => ({ op: 'remove_page', page: r.page }),
      board_move_page: (r) => ({ op: 'move_page', page: r.page, index: r.index }),
      board_keep_page: (r) => ({ op: 'annotates', page: r.page, annotates: null }),
      board_set_access: (r) => ({ op: 'access', access: { everyone: !!r.access.everyone, drawers: r.access.drawers || [] } }),
    };
    const make = changes[request.type];
    if (!make) throw { kind: 'invalidInput', message: `unknown feature request ${request.type}` };
    const inverse = boardCommit(make(request), by);
    if (request.type !== 'board_set_access') {
      undos.push(inverse);
      if (undos.length > 100) undos.shift();
      redos.length = 0;
    }
  }

  // The room features' requests, answered as the relay would (after its broadcast).
  const featureRequests = {
    board_add: boardRequest,
    board_update: boardRequest,
    board_erase: boardRequest,
    board_clear: boardRequest,
    board_add_page: boardRequest,
    board_remove_page: boardRequest,
    board_move_page: boardRequest,
    board_keep_page: boardRequest,
    board_undo: boardRequest,
    board_redo: boardRequest,
    board_live: boardRequest,
    board_sync: boardRequest,
    board_set_access: boardRequest,
    timer_start: timerRequest,
    timer_pause: timerRequest,
    timer_resume: timerRequest,
    timer_skip: timerRequest,
    timer_stop: timerRequest,
    timer_options: timerRequest,
    question_ask: (request) => questionRequest(request),
    question_upvote: (request) => questionRequest(request),
    question_close: (request) => questionRequest(request),
    question_pin: (request) => questionRequest(request),
    set_presenter: (request) => lectureRequest(request),
    set_room_mode: (request) => lectureRequest(request),
    lock_room: (request) => lectureRequest(request),
    mute_all: (request) => lectureRequest(request),
    allow_speaking: (request) => lectureRequest(request),
    react,
    poll_launch: (request) => polls.requests.poll_launch(request),
    poll_vote: (request) => polls.requests.poll_vote(request),
    poll_close: (request) => polls.requests.poll_close(request),
    material_delete: (request) => materials.requests.material_delete(request),
    materials_options: (request) => materials.requests.materials_options(request),
    raise_hand: () => {
      if (!state.hands.some((h) => h.identity === ME)) handQueue([...state.hands, fx.raisedHand(ME, Date.now())], ME);
    },
    lower_hand: () => lowerHand(ME),
    lower_hand_of: ({ identity }) => {
      if (state.hosting === null) throw { kind: 'refused', message: 'Only the host can lower hands.' };
      lowerHand(identity);
    },
    lower_all_hands: () => {
      if (state.hosting === null) throw { kind: 'refused', message: 'Only the host can lower hands.' };
      if (state.hands.length > 0) handQueue([], ME);
    },
    set_presence: ({ presence }) => {
      if (presence === state.presence) return;
      state.presence = presence;
      fake.emit('room-event', { type: 'participantUpdated', participant: you() });
    },
  };

  function parseInvite(text) {
    const t = String(text).trim();
    let m = /^studyhall:\/\/join\?relay=([^&]+)&code=([A-Za-z0-9-]+)$/.exec(t);
    if (m) return { relay: decodeURIComponent(m[1]), code: m[2].toUpperCase() };
    m = /^([A-Za-z0-9]{4}-[A-Za-z0-9]{4})@([A-Za-z0-9.-]+:\d+)$/.exec(t);
    if (m) return { relay: m[2], code: m[1].toUpperCase() };
    throw { kind: 'inviteInvalid', message: 'That is not a Studyhall invite link or code.' };
  }

  const commands = {
    app_info: () => fx.appInfo({ version: '0.1.0-test' }),
    get_settings: () => state.settings,
    save_profile: ({ profile }) => {
      const name = String(profile.displayName || '').trim();
      if (!name || [...name].length > 64) throw { kind: 'invalidInput', message: 'The name must be 1-64 characters.' };
      state.settings = { ...state.settings, ...profile };
      return state.settings;
    },
    list_devices: () => state.devices,
    media_endpoint: () => {
      if (!state.mediaEndpoint) return new Promise(() => {});
      return state.mediaEndpoint;
    },
    start_preview: () => null,
    stop_preview: () => null,
    set_noise_suppression: ({ on }) => {
      state.settings = { ...state.settings, noiseSuppression: on };
      return null;
    },
    host_room: ({ title }) => {
      state.hosting = fx.invite(RELAY, 'K7QX-29FD', { room: 'room-1' });
      state.title = title;
      return state.hosting;
    },
    stop_hosting: () => {
      state.hosting = null;
      return null;
    },
    host_upload: () => (state.hosting === null ? null : state.hostUpload),
    parse_invite: ({ text }) => parseInvite(text),
    take_launch_invite: () => {
      const link = state.launchInvite ?? null;
      state.launchInvite = null;
      return link;
    },
    join_room: ({ invite }) => {
      parseInvite(invite);
      // A locked room takes in only those it had (and its host).
      if (state.lecture.locked && state.hosting === null && !state.admitted) {
        throw { kind: 'roomLocked', message: 'the room is locked: the host takes no new people now' };
      }
      state.inRoom = true;
      state.admitted = true;
      // In a lecture a student comes in with what the host allows, and no more.
      for (const source of ['mic', 'camera', 'screen']) if (!maySend(ME, source)) state.media[source] = false;
      return fx.snapshot({
        room: 'room-1',
        title: state.title || 'Finals week',
        you: you(),
        participants: state.others.map((p) => ({ ...p, presenter: !p.host && state.presenters.includes(p.identity) })),
        chat: state.chat,
        hosting: state.hosting,
        maxChatBytes: state.maxChatBytes,
        features: fx.features({
          hands: state.hands,
          timer: { ...structuredClone(state.timer), now: Date.now() },
          board: boardSummary(),
          lecture: lectureState(),
          questions: state.questions.map(questionView).sort(listOrder),
          polls: polls.snapshot(),
          materials: materials.snapshot(),
        }),
      });
    },
    leave_room: () => {
      state.inRoom = false;
      groups.leftRoom();
      return null;
    },
    set_media: ({ update }) => {
      // What the relay refuses a student in a lecture (`forbidden`): the app waits for the
      // room's answer and fails with its reason; nothing changes.
      const refused = ['mic', 'camera', 'screen'].find((k) => update[k] === true && !maySend(ME, k));
      if (refused) {
        throw {
          kind: 'refused',
          message:
            refused === 'screen'
              ? 'this room is a lecture: only presenters and the host share their screen'
              : `this room is a lecture: the ${refused === 'mic' ? 'microphone' : 'camera'} stays off until the host lets you speak (raise your hand)`,
        };
      }
      for (const k of ['mic', 'camera', 'screen']) if (update[k] !== null) state.media[k] = update[k];
      return { ...state.media };
    },
    set_view: ({ tiles }) => {
      // Checked as the app and the relay check it (128 tiles, edges of 1 to 7680 device pixels).
      if (!state.inRoom) throw { kind: 'notInRoom', message: 'Not in a room.' };
      if (!Array.isArray(tiles) || tiles.length > 128) throw { kind: 'invalidInput', message: 'at most 128 tiles' };
      for (const t of tiles) {
        const edge = (n) => Number.isInteger(n) && n >= 1 && n <= 7680;
        if (typeof t.identity !== 'string' || !['camera', 'screen'].includes(t.video) || !edge(t.width) || !edge(t.height)) {
          throw { kind: 'invalidInput', message: `bad tile ${JSON.stringify(t)}` };
        }
      }
      state.view = tiles;
      return null;
    },
    send_chat: ({ clientMsgId, text }) => {
      let message = state.sent.get(clientMsgId);
      if (!message) {
        message = {
          seq: ++state.seq,
          from: ME,
          name: state.settings.displayName,
          text,
          ts: Date.now(),
          clientMsgId,
          deleted: false,
          attachment: null,
        };
        state.sent.set(clientMsgId, message);
      }
      // The relay's broadcast of our own message reaches us too (same seq).
      fake.emit('room-event', { type: 'chatMessage', message });
      return message;
    },
    load_older_chat: () => state.olderChat,
    delete_chat: () => null,
    kick: () => null,
    feature_request: ({ request }) => {
      if (!state.inRoom) throw { kind: 'notInRoom', message: 'Not in a room.' };
      const handle = featureRequests[request.type];
      if (!handle) throw { kind: 'invalidInput', message: `unknown feature request ${request.type}` };
      handle(request);
      return null;
    },
    quit_app: () => null,
    study_summary: () => state.study,
    set_study_goal: ({ minutes }) => {
      if (!Number.isInteger(minutes) || minutes < 5 || minutes > 960) {
        throw { kind: 'invalidInput', message: 'The daily goal must be between 5 and 960 minutes.' };
      }
      state.study = { ...state.study, goalMinutes: minutes };
      return state.study;
    },
    dismiss_study_notice: () => {
      state.study = { ...state.study, notice: null };
      return null;
    },
    export_study_csv: () => state.exportPath,
    save_export: ({ name, dataBase64 }) => {
      if (!name || !dataBase64) throw { kind: 'invalidInput', message: 'Nothing to save.' };
      const ext = /\.([a-z0-9]+)$/i.exec(name)?.[1]?.toLowerCase();
      if (!['png', 'pdf', 'svg', 'json', 'zip', 'csv'].includes(ext)) {
        throw { kind: 'invalidInput', message: `Exports are saved as png, pdf, svg, json, zip, csv; not as "${ext ?? ''}".` };
      }
      return `/home/ada/Downloads/${name}`;
    },
    poll_drafts: () => polls.commands.poll_drafts(),
    save_poll_drafts: (args) => polls.commands.save_poll_drafts(args),
    pick_material_file: (args) => materials.commands.pick_material_file(args),
    upload_material: (args) => {
      if (!state.inRoom) throw { kind: 'notInRoom', message: 'Not in a room.' };
      return materials.commands.upload_material(args);
    },
    download_material: (args) => {
      if (!state.inRoom) throw { kind: 'notInRoom', message: 'Not in a room.' };
      return materials.commands.download_material(args);
    },
    cancel_transfer: (args) => materials.commands.cancel_transfer(args),
    material_preview: (args) => materials.commands.material_preview(args),
    'plugin:event|listen': ({ event, handler }) => {
      const eventId = nextEventId++;
      if (!listeners.has(event)) listeners.set(event, []);
      listeners.get(event).push({ eventId, handlerId: handler });
      return eventId;
    },
    'plugin:event|unlisten': ({ event, eventId }) => {
      const list = listeners.get(event) || [];
      listeners.set(
        event,
        list.filter((l) => l.eventId !== eventId),
      );
      return null;
    },
  };

  async function invoke(cmd, args = {}) {
    if (!cmd.startsWith('plugin:')) fake.calls.push({ cmd, args: JSON.parse(JSON.stringify(args)) });
    await ready;
    const delay = fake.delays[cmd];
    if (delay) await new Promise((r) => setTimeout(r, delay));
    const failure = (fake.failures[cmd] || []).shift();
    if (failure) throw failure;
    const handler = commands[cmd] || groups.commands[cmd];
    if (!handler) throw { kind: 'internal', message: `unknown command ${cmd}` };
    return handler(args);
  }

  window.__TAURI_INTERNALS__ = {
    invoke,
    transformCallback(callback, once = false) {
      const id = nextCallback++;
      callbacks.set(id, (data) => {
        if (once) callbacks.delete(id);
        return callback && callback(data);
      });
      return id;
    },
    unregisterCallback(id) {
      callbacks.delete(id);
    },
    runCallback(id, data) {
      const cb = callbacks.get(id);
      if (cb) cb(data);
    },
    callbacks,
    metadata: { currentWindow: { label: 'main' }, currentWebview: { windowLabel: 'main', label: 'main' } },
  };
  window.__TAURI_EVENT_PLUGIN_INTERNALS__ = {
    unregisterListener(event, eventId) {
      const list = listeners.get(event) || [];
      const entry = list.find((l) => l.eventId === eventId);
      if (entry) callbacks.delete(entry.handlerId);
      listeners.set(
        event,
        list.filter((l) => l.eventId !== eventId),
      );
    },
  };
  window.isTauri = true;
  window.__fake = fake;
})();
