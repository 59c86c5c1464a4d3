// A small Studyhall protocol v1 client, written only from docs/protocol.md.
//
// One WebSocket per user, one JSON object per text frame, authentication in the
// first message (`join`). The relay pings at the WebSocket level; the `ws` library
// answers those pings on its own, which counts as a sign of life.

import WebSocket from 'ws';

import { BoardReplica } from './board.mjs';
import { QuestionList } from './questions.mjs';
import { PollList } from './polls.mjs';

export const PROTOCOL_VERSION = 1;

/**
 * The doc's limit on timer requests: 2 a second per connection, with a burst of 10. The
 * client keeps below it (a smaller burst and a slower rate, for the network's jitter) so
 * that a test's requests are never refused with `rate_limited`.
 */
const TIMER_RATE_PER_SECOND = 1.8;
const TIMER_BURST = 8;

/**
 * The doc's signaling rate: 20 messages a second per connection, burst 50, "every frame
 * a joined client sends", `board_live` excepted; the whiteboard's own limit (20 a second,
 * burst 40, every board request but `board_live`) is tighter in a burst, so the client
 * keeps every frame under that. The rates "follow the
 * identity: a connection that ends leaves its buckets to the same identity's next
 * connection in the room (for 10 minutes)", so the client keeps one bucket per relay,
 * room and identity, shared by all its connections. It keeps below the limit (a smaller
 * burst and a slower rate) so that no request is refused with `rate_limited`.
 */
const FRAME_RATE_PER_SECOND = 18;
const FRAME_BURST = 35;
const frameBuckets = new Map();

/**
 * The Lecture a room has when no host touched it ("A room no host has touched has
 * {...}"); a relay from before a field sends none: "treat a missing field as its default".
 */
export const DEFAULT_LECTURE = Object.freeze({ presenters: [], mode: 'study', started_at: null, locked: false, everyone_speaks: false, speakers: [] });

/** A Lecture with every field, missing ones at their defaults. */
export function withLectureDefaults(lecture) {
  return { ...structuredClone(DEFAULT_LECTURE), ...(lecture ?? {}) };
}

/** Build the WebSocket URL for a relay listening on host:port. */
export function wsUrl(host, port) {
  return `ws://${host}:${port}/ws`;
}

/**
 * Read the `room` claim out of a token without checking it (the doc: "the room is the
 * `room` claim of the base64url-decoded middle part"). Returns undefined when the token
 * is not shaped like a JWT.
 */
export function tokenClaims(token) {
  const parts = String(token).split('.');
  if (parts.length !== 3) return undefined;
  try {
    return JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8'));
  } catch {
    return undefined;
  }
}

export class ProtocolError extends Error {
  constructor(frame) {
    super(`relay error ${frame.code}: ${frame.message}`);
    this.frame = frame;
    this.code = frame.code;
    this.fatal = frame.fatal;
  }
}

export class StudyhallClient {
  /**
   * Open a socket. Resolves once the WebSocket is open.
   * @param {string} url e.g. ws://127.0.0.1:7450/ws
   */
  static connect(url, { timeoutMs = 5000 } = {}) {
    const client = new StudyhallClient(url);
    return client._opened(timeoutMs).then(() => client);
  }

  constructor(url) {
    this.url = url;
    /** Every parsed frame, in arrival order. */
    this.frames = [];
    /** Frames that could not be parsed (binary, not JSON, no string `type`). */
    this.badFrames = [];
    /** Indexes into `frames` already returned by waitFor/next. */
    this._consumed = new Set();
    this._waiters = new Set();
    this._nextRequest = 1;
    /** {code, reason} once the socket has closed, else null. */
    this.closeInfo = null;
    this.joined = null;
    /**
     * The room's raised hands, first raised first: `joined.features.hands` (missing counts
     * as empty), then replaced by every `hand_queue`.
     */
    this.hands = [];
    /**
     * The room's focus timer (a TimerState): `joined.features.timer`, then replaced by the
     * `timer` of every `timer` event. null until joined, or when the relay sent none.
     */
    this.timer = null;
    /**
     * The relay's clock minus ours, in ms, once measured with `measureClock` (the doc's
     * "Time left": several pings, the one with the smallest round trip wins).
     */
    this.clockOffsetMs = null;
    this._clockNonce = 1_000_000;
    this._timerTokens = TIMER_BURST;
    this._timerLast = Date.now();
    /** The identity's frame bucket (see FRAME_BURST), once joined. */
    this._frames = null;
    /**
     * The room's whiteboard as this client keeps it (board.mjs): fed with `joined`,
     * `board_op`, `board_snapshot`, `board_synced` and `board_live` as they arrive.
     */
    this.board = new BoardReplica((frame) => this.send(frame));
    /**
     * The room's lecture (a Lecture: presenters, mode, started_at, locked,
     * everyone_speaks, speakers): `joined.features.lecture`, then replaced by every
     * `lecture` event, with missing fields at their defaults. null until joined.
     */
    this.lecture = null;
    /**
     * The room's questions as this participant sees them (questions.mjs): fed with
     * `joined.features.questions` and every `question` event.
     */
    this.questions = new QuestionList();
    /**
     * The room's polls as this participant sees them (polls.mjs): fed with
     * `joined.features.polls` and every `poll` event.
     */
    this.polls = new PollList();

    // No subprotocol, no compression (the relay negotiates neither).
    this.ws = new WebSocket(url, { perMessageDeflate: false });
    this.ws.on('message', (data, isBinary) => this._onMessage(data, isBinary));
    this.closed = new Promise((resolve) => {
      this.ws.on('close', (code, reason) => {
        this.closeInfo = { code, reason: reason.toString('utf8') };
        for (const w of [...this._waiters]) w.onClose(this.closeInfo);
        resolve(this.closeInfo);
      });
    });
    // Errors (e.g. a refused upgrade) are surfaced through _opened/closed.
    this.ws.on('error', (err) => {
      this.lastError = err;
    });
  }

  _opened(timeoutMs) {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(new Error(`WebSocket to ${this.url} did not open within ${timeoutMs} ms`));
        this.ws.terminate();
      }, timeoutMs);
      this.ws.once('open', () => {
        clearTimeout(timer);
        resolve();
      });
      this.ws.once('unexpected-response', (_req, res) => {
        clearTimeout(timer);
        reject(new Error(`upgrade refused: HTTP ${res.statusCode}`));
      });
      this.ws.once('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
    });
  }

  _onMessage(data, isBinary) {
    if (isBinary) {
      this.badFrames.push({ reason: 'binary frame', data });
      return;
    }
    let frame;
    try {
      frame = JSON.parse(data.toString('utf8'));
    } catch (e) {
      this.badFrames.push({ reason: `not JSON: ${e.message}`, data: data.toString('utf8') });
      return;
    }
    if (frame === null || typeof frame !== 'object' || Array.isArray(frame) || typeof frame.type !== 'string') {
      this.badFrames.push({ reason: 'not an object with a string "type"', data: frame });
      return;
    }
    if (frame.type === 'joined') this.hands = frame.features?.hands ?? [];
    if (frame.type === 'hand_queue') this.hands = frame.hands;
    if (frame.type === 'joined') this.timer = frame.features?.timer ?? null;
    if (frame.type === 'timer') this.timer = frame.timer;
    if (frame.type === 'joined') {
      this.board.onJoined(frame.features?.board);
      const key = `${this.url} ${frame.room} ${frame.you?.identity}`;
      if (!frameBuckets.has(key)) frameBuckets.set(key, { tokens: FRAME_BURST, last: Date.now() });
      this._frames = frameBuckets.get(key);
    }
    if (frame.type === 'joined') {
      this.lecture = withLectureDefaults(frame.features?.lecture);
      this.questions.onJoined(frame.features?.questions);
      this.polls.onJoined(frame.features?.polls);
    }
    if (frame.type === 'lecture') this.lecture = withLectureDefaults(frame.lecture);
    if (frame.type === 'question') this.questions.onQuestion(frame.question);
    if (frame.type === 'poll') this.polls.onPoll(frame.poll);
    if (frame.type === 'board_op') this.board.onBoardOp(frame);
    if (frame.type === 'board_snapshot') this.board.onSnapshot(frame);
    if (frame.type === 'board_synced') this.board.onSynced(frame);
    if (frame.type === 'board_live') this.board.onLive(frame);
    if (frame.type === 'participant_left') this.board.onLeft(frame.identity);
    const index = this.frames.length;
    this.frames.push(frame);
    for (const w of [...this._waiters]) w.onFrame(frame, index);
  }

  /** Fresh request_id ("r1", "r2", ...). */
  requestId(prefix = 'r') {
    return `${prefix}${this._nextRequest++}`;
  }

  /** Send one client frame (an object with `type`). */
  send(frame) {
    if (!frame || typeof frame.type !== 'string') throw new TypeError('a frame needs a string "type"');
    this.ws.send(JSON.stringify(frame));
  }

  /** Send arbitrary text (for testing malformed frames). */
  sendRaw(text) {
    this.ws.send(text);
  }

  /**
   * Wait for the first not-yet-consumed frame matching `predicate` (already received
   * or still to come). The frame is marked consumed so the next waitFor won't return it.
   * Rejects on timeout or when the socket closes first.
   */
  waitFor(predicate, timeoutMs = 5000, what = 'frame') {
    for (let i = 0; i < this.frames.length; i++) {
      if (!this._consumed.has(i) && predicate(this.frames[i])) {
        this._consumed.add(i);
        return Promise.resolve(this.frames[i]);
      }
    }
    if (this.closeInfo) {
      return Promise.reject(new Error(`socket already closed (${this.closeInfo.code}) while waiting for ${what}`));
    }
    return new Promise((resolve, reject) => {
      const waiter = {
        onFrame: (frame, index) => {
          if (!this._consumed.has(index) && predicate(frame)) {
            this._consumed.add(index);
            done();
            resolve(frame);
          }
        },
        onClose: (info) => {
          done();
          reject(new Error(`socket closed (${info.code} ${info.reason}) while waiting for ${what}; frames: ${JSON.stringify(this.frames)}`));
        },
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}; frames: ${JSON.stringify(this.frames)}`));
      }, timeoutMs);
      const done = () => {
        clearTimeout(timer);
        this._waiters.delete(waiter);
      };
      this._waiters.add(waiter);
    });
  }

  /**
   * Wait until `cond()` holds, checking now and after every frame that arrives; consumes
   * nothing. Rejects on timeout or when the socket closes first.
   */
  waitUntil(cond, timeoutMs = 5000, what = 'condition') {
    if (cond()) return Promise.resolve();
    if (this.closeInfo) return Promise.reject(new Error(`socket already closed (${this.closeInfo.code}) while waiting for ${what}`));
    return new Promise((resolve, reject) => {
      const waiter = {
        onFrame: () => {
          if (cond()) {
            done();
            resolve();
          }
        },
        onClose: (info) => {
          done();
          reject(new Error(`socket closed (${info.code} ${info.reason}) while waiting for ${what}`));
        },
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`));
      }, timeoutMs);
      const done = () => {
        clearTimeout(timer);
        this._waiters.delete(waiter);
      };
      this._waiters.add(waiter);
    });
  }

  /** Wait for the next unconsumed frame of a given type. */
  waitForType(type, timeoutMs = 5000, extra = () => true) {
    return this.waitFor((f) => f.type === type && extra(f), timeoutMs, `"${type}"`);
  }

  /** Unconsumed frames of a type, without waiting. */
  pending(type) {
    return this.frames.filter((f, i) => !this._consumed.has(i) && (type === undefined || f.type === type));
  }

  /**
   * Send a frame with a request_id and wait for the reply that echoes it
   * (the answer or an `error`).
   */
  async request(frame, timeoutMs = 5000) {
    if (frame.type.startsWith('timer_')) await this._timerToken();
    if (frame.type !== 'board_live') await this._frameToken();
    const request_id = frame.request_id ?? this.requestId();
    this.send({ ...frame, request_id });
    return this.waitFor((f) => f.request_id === request_id, timeoutMs, `reply to ${frame.type} ${request_id}`);
  }

  /**
   * Send a request that has no reply of its own (`set_media`, `set_presence`,
   * `chat_delete`, `kick`, `end_room`, `subscribe_answer`, `raise_hand`, `lower_hand`,
   * `lower_hand_of`, the `timer_*` and `board_*` requests) with a request_id and wait for its `ack`. Rejects with a
   * ProtocolError on an `error`. The broadcasts it causes may come before or after the ack.
   */
  async act(frame, timeoutMs = 5000) {
    const reply = await this.request(frame, timeoutMs);
    if (reply.type === 'error') throw new ProtocolError(reply);
    if (reply.type !== 'ack') throw new Error(`expected an ack to ${frame.type}, got ${JSON.stringify(reply)}`);
    return reply;
  }

  /** Raise your hand; resolves with the ack. */
  raiseHand(timeoutMs) {
    return this.act({ type: 'raise_hand' }, timeoutMs);
  }

  /** Lower your own hand; resolves with the ack. */
  lowerHand(timeoutMs) {
    return this.act({ type: 'lower_hand' }, timeoutMs);
  }

  /** Host: lower the hand of `identity`; resolves with the ack. */
  lowerHandOf(identity, timeoutMs) {
    return this.act({ type: 'lower_hand_of', identity }, timeoutMs);
  }

  /** Wait until one more frame stays within the signaling rate of this identity, and count it. */
  async _frameToken() {
    const b = this._frames;
    if (!b) return;
    for (;;) {
      const now = Date.now();
      b.tokens = Math.min(FRAME_BURST, b.tokens + ((now - b.last) / 1000) * FRAME_RATE_PER_SECOND);
      b.last = now;
      if (b.tokens >= 1) {
        b.tokens -= 1;
        return;
      }
      await new Promise((r) => setTimeout(r, Math.ceil(((1 - b.tokens) / FRAME_RATE_PER_SECOND) * 1000)));
    }
  }

  // ------------------------------------------------------------ whiteboard

  /**
   * Take over the board copy of an earlier connection (a reconnect keeps its copy, as
   * "Keeping in step" says). Call before `join`.
   */
  /** Keep no copy of the board (a client that only looks at raw frames). */
  ignoreBoard() {
    const noop = () => {};
    this.board = { onJoined: noop, onBoardOp: noop, onSnapshot: noop, onSynced: noop, onLive: noop, onLeft: noop };
  }

  adoptBoard(replica) {
    replica.send = (frame) => this.send(frame);
    this.board = replica;
  }

  /**
   * Send `board_sync` (by default with `board` and `since` when this client holds a copy,
   * else without) and wait for its `ack`, which "comes after the answer's last message".
   * Resolves with the ack; rejects with a ProtocolError on an `error`.
   */
  async syncBoard(frame = this.board.syncFrame(), timeoutMs = 5000) {
    return this.act(frame, timeoutMs);
  }

  // ------------------------------------------------------------ focus timer

  /** Wait until one more timer request stays within the doc's limit, and count it. */
  async _timerToken() {
    for (;;) {
      const now = Date.now();
      this._timerTokens = Math.min(TIMER_BURST, this._timerTokens + ((now - this._timerLast) / 1000) * TIMER_RATE_PER_SECOND);
      this._timerLast = now;
      if (this._timerTokens >= 1) {
        this._timerTokens -= 1;
        return;
      }
      await new Promise((r) => setTimeout(r, Math.ceil(((1 - this._timerTokens) / TIMER_RATE_PER_SECOND) * 1000)));
    }
  }

  /** timer_start, with `settings` (all four fields) or the room's current ones; resolves with the ack. */
  timerStart(settings, timeoutMs) {
    return this.act(settings === undefined ? { type: 'timer_start' } : { type: 'timer_start', settings }, timeoutMs);
  }

  timerPause(timeoutMs) {
    return this.act({ type: 'timer_pause' }, timeoutMs);
  }

  timerResume(timeoutMs) {
    return this.act({ type: 'timer_resume' }, timeoutMs);
  }

  timerSkip(timeoutMs) {
    return this.act({ type: 'timer_skip' }, timeoutMs);
  }

  timerStop(timeoutMs) {
    return this.act({ type: 'timer_stop' }, timeoutMs);
  }

  /** Host: timer_options; fields left out keep their value. Resolves with the ack. */
  timerOptions(options, timeoutMs) {
    return this.act({ type: 'timer_options', ...options }, timeoutMs);
  }

  /**
   * Measure the relay clock's offset from ours, as docs/protocol.md ("Time left") says:
   * `samples` pings one after another; for each, rtt = received - sent and
   * offset = pong.time - (sent + rtt / 2); keep the offset of the smallest rtt.
   * Resolves with {offsetMs, rttMs} and remembers the offset.
   */
  async measureClock(samples = 5, timeoutMs = 5000) {
    let best = null;
    for (let i = 0; i < samples; i++) {
      const nonce = this._clockNonce++;
      const sent = Date.now();
      const pong = await this.ping(nonce, timeoutMs);
      const received = Date.now();
      if (!Number.isSafeInteger(pong.time)) throw new Error(`pong without a time: ${JSON.stringify(pong)}`);
      const rtt = received - sent;
      const offset = pong.time - (sent + rtt / 2);
      if (best === null || rtt < best.rttMs) best = { offsetMs: offset, rttMs: rtt };
    }
    this.clockOffsetMs = best.offsetMs;
    return best;
  }

  /** The relay's clock now, in ms since the epoch (our clock plus the measured offset). */
  relayNow() {
    if (this.clockOffsetMs === null) throw new Error('measure the clock first (measureClock)');
    return Date.now() + this.clockOffsetMs;
  }

  /**
   * Ms left in `run` (a TimerRun; default: the current timer's), by the doc's formula:
   * `remaining_ms` while paused, else max(0, ends_at - relay now). null when stopped.
   */
  timeLeft(run = this.timer?.run) {
    if (!run) return null;
    if (run.paused) return run.remaining_ms;
    return Math.max(0, run.ends_at - this.relayNow());
  }

  /**
   * Send `join` and wait for `joined` (resolves with it) or an `error` (rejects with a
   * ProtocolError carrying the frame). `joined` is always the first message after join.
   */
  async join({ room, token, media, request_id, protocol = PROTOCOL_VERSION }, timeoutMs = 5000) {
    const frame = { type: 'join', room, token, protocol, request_id: request_id ?? this.requestId('j') };
    if (media !== undefined) frame.media = media;
    const reply = await this.request(frame, timeoutMs);
    if (reply.type === 'joined') {
      this.joined = reply;
      return reply;
    }
    if (reply.type === 'error') throw new ProtocolError(reply);
    throw new Error(`unexpected reply to join: ${JSON.stringify(reply)}`);
  }

  /** Application-level ping; resolves with the pong (which carries the relay's `time`). */
  async ping(nonce, timeoutMs = 5000) {
    await this._frameToken();
    this.send(nonce === undefined ? { type: 'ping' } : { type: 'ping', nonce });
    return this.waitFor((f) => f.type === 'pong' && f.nonce === nonce, timeoutMs, `pong ${nonce}`);
  }

  /** chat_send; resolves with the chat_ack (rejects with ProtocolError on an error reply). */
  async chat(client_msg_id, text, timeoutMs = 5000) {
    const reply = await this.request({ type: 'chat_send', client_msg_id, text }, timeoutMs);
    if (reply.type === 'error') throw new ProtocolError(reply);
    return reply;
  }

  /** chat_history; resolves with the chat_page. */
  async history({ before_seq, limit, request_id } = {}, timeoutMs = 5000) {
    const frame = { type: 'chat_history' };
    if (request_id !== undefined) frame.request_id = request_id;
    if (before_seq !== undefined) frame.before_seq = before_seq;
    if (limit !== undefined) frame.limit = limit;
    const reply = await this.request(frame, timeoutMs);
    if (reply.type === 'error') throw new ProtocolError(reply);
    return reply;
  }

  /** Send `leave`; resolves with {left, close}. */
  async leave(timeoutMs = 5000) {
    const left = await this.request({ type: 'leave' }, timeoutMs);
    const close = await this.waitClose(timeoutMs);
    return { left, close };
  }

  /** Wait for the socket to close; resolves with {code, reason}. */
  waitClose(timeoutMs = 5000) {
    if (this.closeInfo) return Promise.resolve(this.closeInfo);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`socket not closed within ${timeoutMs} ms; frames: ${JSON.stringify(this.frames)}`)),
        timeoutMs,
      );
      this.closed.then((info) => {
        clearTimeout(timer);
        resolve(info);
      });
    });
  }

  /** Close from our side (no-op if already closed). */
  close(code = 1000) {
    if (this.closeInfo) return;
    try {
      this.ws.close(code);
    } catch {
      this.ws.terminate();
    }
  }

  /** Drop the TCP connection at once. */
  terminate() {
    this.ws.terminate();
  }
}
