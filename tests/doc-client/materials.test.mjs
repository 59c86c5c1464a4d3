// End-to-end tests of shared files ("materials"), written only from docs/protocol.md
// ("Materials" and what it refers to: Access tokens, `ack`, `joined.features`, the
// attachment message, the errors). The bytes go over HTTP (Node's fetch, and node:http
// where a request must be held open); what is said about them goes over the socket.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import http from 'node:http';

import { withCleanup, joinAs, mintToken, assertError, assertForbidden, assertBadField, settle, enter, capitalized } from './harness.mjs';

const TEST_TIMEOUT = 60_000;

/** "Material limits" and MaterialsState: the defaults. */
const DEFAULT_MAX_FILE_BYTES = 104_857_600;
const DEFAULT_QUOTA_BYTES = 1_073_741_824;
const DEFAULT_UPLOADS_AT_ONCE = 2;

/** The documented messages ("HTTP errors", `material_share`, `material_delete`). */
const UPLOAD_FORBIDDEN = 'only the host and presenters can share files in this room (the host can let everyone)';
const SHARE_FORBIDDEN = 'only whoever uploaded a file shares it';
const DELETE_FORBIDDEN = 'only the host, presenters and whoever uploaded a file can delete it';
const ID_MESSAGE = 'id: a material id is 32 lowercase hex digits';

const MATERIAL_EVENTS = ['material_added', 'material_removed', 'materials_access'];

// ---------------------------------------------------------------- files

/** A small PDF: what makes it one for the relay is its signature (`%PDF`). */
function pdfBytes(label = 'hello', size) {
  let body = `%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\n% ${label}\n`;
  const tail = 'trailer << /Root 1 0 R >>\n%%EOF\n';
  if (size !== undefined) body += '%'.repeat(Math.max(0, size - body.length - tail.length - 1)) + '\n';
  return Buffer.from(body + tail, 'latin1');
}

/** Plain UTF-8 text of exactly `size` bytes. */
function textBytes(size, ch = 'a') {
  return Buffer.from(ch.repeat(size), 'utf8');
}

const sha256 = (bytes) => createHash('sha256').update(bytes).digest('hex');

/**
 * The Content-Disposition the doc promises for `name`: `filename` is the name with every
 * character that is not printable ASCII or a space, and every `"` and `\`, replaced by
 * `_`; `filename*` is the whole name in UTF-8, every byte but A–Z a–z 0–9 percent-encoded.
 */
function dispositionFor(name) {
  const plain = [...name]
    .map((ch) => {
      const c = ch.codePointAt(0);
      return c >= 0x20 && c <= 0x7e && ch !== '"' && ch !== '\\' ? ch : '_';
    })
    .join('');
  const star = [...Buffer.from(name, 'utf8')]
    .map((b) => {
      const ch = String.fromCharCode(b);
      return /[A-Za-z0-9]/.test(ch) ? ch : `%${b.toString(16).toUpperCase().padStart(2, '0')}`;
    })
    .join('');
  return `attachment; filename="${plain}"; filename*=UTF-8''${star}`;
}

// ---------------------------------------------------------------- HTTP

const base = (relay, room) => `${relay.http}/v1/rooms/${encodeURIComponent(room)}/materials`;

async function answer(res) {
  const body = Buffer.from(await res.arrayBuffer());
  let json;
  try {
    json = JSON.parse(body.toString('utf8'));
  } catch {}
  return { status: res.status, headers: res.headers, body, json };
}

/**
 * POST the bytes. `name` is percent-encoded as UTF-8 (so `+` is `%2B`); `query` replaces
 * the whole query. `chunked`: send the body as a stream, without Content-Length.
 */
async function upload(relay, room, token, name, bytes, { query, chunked = false, headers = {} } = {}) {
  const q = query ?? `name=${encodeURIComponent(name)}`;
  const init = { method: 'POST', headers: { ...headers }, body: bytes };
  if (token !== undefined) init.headers.authorization = `Bearer ${token}`;
  if (chunked) {
    init.body = new ReadableStream({
      start(controller) {
        controller.enqueue(new Uint8Array(bytes));
        controller.close();
      },
    });
    init.duplex = 'half';
  }
  return answer(await fetch(`${base(relay, room)}${q === '' ? '' : `?${q}`}`, init));
}

async function list(relay, room, token) {
  return answer(await fetch(base(relay, room), { headers: { authorization: `Bearer ${token}` } }));
}

async function download(relay, room, token, id, { range, method = 'GET' } = {}) {
  const headers = { authorization: `Bearer ${token}` };
  if (range !== undefined) headers.range = range;
  return answer(await fetch(`${base(relay, room)}/${id}`, { method, headers }));
}

/** An HTTP error answer: the status and `{"error":{"code","message"}}`. */
function assertHttpError(res, status, code, what = '') {
  const at = `${what} ${res.status} ${res.body.toString('utf8')}`;
  assert.equal(res.status, status, `status ${status} (${code}): ${at}`);
  assert.ok(res.json && typeof res.json.error === 'object', `a JSON error body: ${at}`);
  assert.equal(res.json.error.code, code, `error code: ${at}`);
  assert.equal(typeof res.json.error.message, 'string', `error message: ${at}`);
}

/** A Material, as the doc describes it; `expect` holds the fields known in advance. */
function assertMaterial(m, expect = {}) {
  const at = JSON.stringify(m);
  assert.deepEqual(Object.keys(m).sort(), ['at', 'by', 'by_name', 'id', 'mime', 'name', 'sha256', 'size'], `the Material's fields: ${at}`);
  assert.match(m.id, /^[0-9a-f]{32}$/, `an id is 32 lowercase hex digits: ${at}`);
  assert.ok(Number.isSafeInteger(m.size) && m.size >= 1, `size: ${at}`);
  assert.match(m.sha256, /^[0-9a-f]{64}$/, `sha256 is 64 lowercase hex digits: ${at}`);
  assert.ok(Number.isSafeInteger(m.at) && Math.abs(m.at - Date.now()) < 10 * 60_000, `at is ms since the epoch: ${at}`);
  for (const [k, v] of Object.entries(expect)) assert.deepEqual(m[k], v, `${k}: ${at}`);
}

/** Upload and expect 201 with the Material of these bytes; resolves with the Material. */
async function uploaded(relay, room, token, name, bytes, { by, mime = 'application/pdf', ...options } = {}) {
  const res = await upload(relay, room, token, name, bytes, options);
  assert.equal(res.status, 201, `upload of ${JSON.stringify(name)}: ${res.status} ${res.body.toString('utf8')}`);
  const expect = { name: name.trim(), size: bytes.length, mime, sha256: sha256(bytes) };
  if (by !== undefined) Object.assign(expect, { by, by_name: capitalized(by) });
  assertMaterial(res.json, expect);
  return res.json;
}

/**
 * Start an upload with `Expect: 100-continue` and hold its body back. `continued` resolves
 * when the relay answers `100 Continue` ("as the relay starts to read the body"), i.e.
 * once it counts as under way; `finish(bytes)` sends the body; `response` resolves with
 * {status, json}.
 */
function heldUpload(relay, room, token, name) {
  const req = http.request(`${base(relay, room)}?name=${encodeURIComponent(name)}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, expect: '100-continue', 'transfer-encoding': 'chunked' },
  });
  const continued = new Promise((resolve) => req.on('continue', resolve));
  const response = new Promise((resolve, reject) => {
    req.on('response', (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c) => (body += c));
      res.on('end', () => {
        let json;
        try {
          json = JSON.parse(body);
        } catch {}
        resolve({ status: res.statusCode, json, body });
      });
    });
    req.on('error', reject);
  });
  req.flushHeaders();
  return {
    continued,
    response,
    finish(bytes) {
      req.end(bytes);
    },
  };
}

/**
 * POST with a declared Content-Length and no body at all: the relay should answer from the
 * headers ("a file too large ... is refused before its body is read").
 */
function declaredOnly(relay, room, token, name, length) {
  return new Promise((resolve, reject) => {
    const req = http.request(`${base(relay, room)}?name=${encodeURIComponent(name)}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-length': String(length) },
    });
    const timer = setTimeout(() => {
      req.destroy();
      reject(new Error('no answer before the body was sent'));
    }, 5000);
    req.on('response', (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c) => (body += c));
      res.on('end', () => {
        clearTimeout(timer);
        req.destroy();
        let json;
        try {
          json = JSON.parse(body);
        } catch {}
        resolve({ status: res.statusCode, json, body });
      });
    });
    req.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    req.flushHeaders();
  });
}

// ---------------------------------------------------------------- socket

/** material_share; expects its `ack` (the section `material_share`). */
async function share(c, id) {
  const request_id = c.requestId('s');
  const reply = await c.request({ type: 'material_share', id, request_id });
  assert.deepEqual(reply, { type: 'ack', request_id }, `material_share is answered with ack: ${JSON.stringify(reply)}`);
}

/** Each client's frame count after a ping round trip. */
async function settledMarks(clients) {
  await settle(...clients);
  return clients.map((c) => c.frames.length);
}

/** After a ping round trip on each client, none got a frame of these types since `marks`. */
async function expectNothingSince(clients, marks, types, why) {
  await settle(...clients);
  clients.forEach((c, i) => {
    const late = c.frames.slice(marks[i]).filter((f) => types.includes(f.type));
    assert.deepEqual(late, [], `${why} (${c.joined?.you?.identity})`);
  });
}

/** The next `material_added` on each client: the Material, `used_bytes`, no request_id. */
async function expectAdded(clients, material, used_bytes) {
  for (const c of clients) {
    const f = await c.waitForType('material_added');
    assert.deepEqual(f, { type: 'material_added', material, used_bytes }, `material_added (${c.joined.you.identity})`);
  }
}

async function expectRemoved(clients, id, by, used_bytes) {
  for (const c of clients) {
    const f = await c.waitForType('material_removed');
    assert.deepEqual(f, { type: 'material_removed', id, by, used_bytes }, `material_removed (${c.joined.you.identity})`);
  }
}

async function expectAccess(clients, anyone_uploads, by) {
  for (const c of clients) {
    const f = await c.waitForType('materials_access');
    assert.deepEqual(f, { type: 'materials_access', anyone_uploads, by }, `materials_access (${c.joined.you.identity})`);
  }
}

/** The attachment message the relay posts when `m` is shared by `sharer` (display name: capitalized). */
function assertAttachmentMessage(msg, m, sharer, text = m.name) {
  const at = JSON.stringify(msg);
  assert.ok(Number.isSafeInteger(msg.seq) && msg.seq >= 1, `seq: ${at}`);
  assert.equal(msg.from, sharer, `from is the sharer: ${at}`);
  assert.equal(msg.name, capitalized(sharer), `name is the sharer's display name: ${at}`);
  assert.equal(msg.text, text, `text is the file's name after the word filter: ${at}`);
  assert.ok(Number.isSafeInteger(msg.ts), `ts: ${at}`);
  assert.equal(msg.client_msg_id, `material-${m.id}`, `client_msg_id is material-<id>: ${at}`);
  assert.equal(msg.deleted, false, `not deleted: ${at}`);
  assert.deepEqual(msg.attachment, { id: m.id, name: m.name, size: m.size, mime: m.mime }, `the attachment: ${at}`);
}

// ---------------------------------------------------------------- 1. upload, share, list

test('materials: a host uploads a PDF, shares it; the room hears once; the list and a late joiner see it', { timeout: TEST_TIMEOUT }, async () => {
  await withCleanup(async (ctx) => {
    const dir = await ctx.dataDir();
    const relay = await ctx.relay(dir);
    const room = 'materials-share';
    const [ada, adaJoined] = await enter(ctx, relay, dir, room, 'ada', { host: true });
    const [bob] = await enter(ctx, relay, dir, room, 'bob');

    // A fresh room: no files, the defaults ("Material limits", MaterialsState).
    const empty = { items: [], anyone_uploads: false, max_file_bytes: DEFAULT_MAX_FILE_BYTES, quota_bytes: DEFAULT_QUOTA_BYTES, used_bytes: 0, uploads_at_once: DEFAULT_UPLOADS_AT_ONCE };
    assert.deepEqual(adaJoined.features.materials, empty, 'joined.features.materials of a fresh room');
    assert.deepEqual((await list(relay, room, ada.token)).json, empty, 'the list of a fresh room');

    // Upload: 201 with the Material. The upload's Content-Type is ignored.
    const name = 'Week 1 — slides.pdf';
    const bytes = pdfBytes('week 1', 300);
    const marks = await settledMarks([ada, bob]);
    const m = await uploaded(relay, room, ada.token, name, bytes, { by: 'ada', headers: { 'content-type': 'text/html' } });
    // "But nobody is told of it yet."
    await expectNothingSince([ada, bob], marks, [...MATERIAL_EVENTS, 'chat_message'], 'an upload alone tells nobody');
    // "it is in the list": those uploaded but not (yet) shared included.
    let l = await list(relay, room, bob.token);
    assert.equal(l.status, 200);
    assert.deepEqual(l.json, { ...empty, items: [m], used_bytes: m.size }, 'the list holds the unshared file');

    // Share: ack; the attachment message and material_added go to everyone, the sharer included.
    await share(ada, m.id);
    const seqs = [];
    for (const c of [ada, bob]) {
      const f = await c.waitForType('chat_message');
      assertAttachmentMessage(f.message, m, 'ada');
      seqs.push(f.message.seq);
    }
    assert.equal(seqs[0], seqs[1], 'one message, one seq');
    await expectAdded([ada, bob], m, m.size);

    // Sharing again: ack, nothing changes, nobody is told.
    const marks2 = await settledMarks([ada, bob]);
    await share(ada, m.id);
    await expectNothingSince([ada, bob], marks2, [...MATERIAL_EVENTS, 'chat_message'], 'a repeated share tells nobody');
    const page = await bob.history();
    assert.equal(page.messages.filter((msg) => msg.client_msg_id === `material-${m.id}`).length, 1, 'the attachment message is posted once');
    assertAttachmentMessage(page.messages.find((msg) => msg.client_msg_id === `material-${m.id}`), m, 'ada');

    // A second upload of the same bytes is its own file, with its own id; listed oldest first.
    const m2 = await uploaded(relay, room, ada.token, name, bytes, { by: 'ada' });
    assert.notEqual(m2.id, m.id, 'each upload has its own id');
    l = await list(relay, room, ada.token);
    assert.deepEqual(l.json.items, [m, m2], 'the list: oldest first, the unshared one included');
    assert.equal(l.json.used_bytes, m.size + m2.size, 'used_bytes counts every file, shared or not');

    // A late joiner: joined.features.materials is the list; joined.chat holds the attachment message.
    const [cat, catJoined] = await enter(ctx, relay, dir, room, 'cat');
    assert.deepEqual(catJoined.features.materials, l.json, 'a late joiner gets the list in joined.features.materials');
    const att = catJoined.chat.messages.find((msg) => msg.client_msg_id === `material-${m.id}`);
    assert.ok(att, `the attachment message is in joined.chat: ${JSON.stringify(catJoined.chat)}`);
    assertAttachmentMessage(att, m, 'ada');

    // material_share's errors, in the documented order.
    assertBadField(await ada.request({ type: 'material_share' }), 'id');
    let e = await ada.request({ type: 'material_share', id: m.id.toUpperCase(), request_id: 'x1' });
    assertError(e, 'invalid_id', false, 'x1');
    assert.equal(e.message, ID_MESSAGE);
    assertError(await ada.request({ type: 'material_share', id: 'not-an-id', request_id: 'x2' }), 'invalid_id', false, 'x2');
    assertError(await ada.request({ type: 'material_share', id: '0'.repeat(32), request_id: 'x3' }), 'not_found', false, 'x3');
    e = await cat.request({ type: 'material_share', id: m2.id, request_id: 'x4' });
    assertError(e, 'forbidden', false, 'x4');
    assert.equal(e.message, SHARE_FORBIDDEN);

    // Ids starting with `material-` are the relay's: chat_send with one gets invalid_id.
    e = await bob.request({ type: 'chat_send', client_msg_id: `material-${m2.id}`, text: 'mine now' });
    assertError(e, 'invalid_id', false);
    e = await bob.request({ type: 'chat_send', client_msg_id: 'material-x', text: 'mine now' });
    assertError(e, 'invalid_id', false);
    // ... and an id that merely contains it is fine.
    assert.equal((await bob.chat('my-material-1', 'ok')).type, 'chat_ack');
  });
});

test('materials: chat_delete of the attachment message empties its text and drops its attachment, and keeps the file', { timeout: TEST_TIMEOUT }, async () => {
  await withCleanup(async (ctx) => {
    const dir = await ctx.dataDir();
    const relay = await ctx.relay(dir);
    const room = 'materials-chat-delete';
    const [ada] = await enter(ctx, relay, dir, room, 'ada', { host: true });
    const m = await uploaded(relay, room, ada.token, 'Week 1 — slides.pdf', pdfBytes('chat delete'), { by: 'ada' });
    await share(ada, m.id);
    const { seq } = (await ada.waitForType('chat_message')).message;
    await ada.act({ type: 'chat_delete', seq });
    assert.deepEqual(await ada.waitForType('chat_deleted'), { type: 'chat_deleted', seq, deleted_by: 'ada' });
    // "A host's chat_delete of such a message empties its text, drops its attachment and
    // marks it deleted; it does not delete the file."
    assert.equal((await download(relay, room, ada.token, m.id)).status, 200, 'chat_delete does not delete the file');
    assert.deepEqual((await list(relay, room, ada.token)).json.items, [m], 'the file stays in the list');
    const [, joined] = await enter(ctx, relay, dir, room, 'cat');
    const fromHistory = (await ada.history()).messages.find((msg) => msg.seq === seq);
    const fromJoined = joined.chat.messages.find((msg) => msg.seq === seq);
    for (const [where, msg] of [['chat_history', fromHistory], ['joined.chat', fromJoined]]) {
      assert.equal(msg.deleted, true, `${where}: deleted`);
      assert.equal(msg.text, '', `${where}: the text is emptied`);
      assert.equal(msg.attachment, undefined, `${where}: a deleted message has no attachment`);
    }
  });
});

test('materials: sharing needs no chat grant; files outlive the room and a restart', { timeout: TEST_TIMEOUT }, async () => {
  await withCleanup(async (ctx) => {
    const dir = await ctx.dataDir();
    let relay = await ctx.relay(dir);
    const room = 'materials-nochat';
    // A host whose token has no `chat`: "None of this needs the chat grant".
    const token = await mintToken(dir, { room, identity: 'ada', name: 'Ada', host: true, grants: 'join' });
    const [ada, joined] = await joinAs(ctx, relay, room, token);
    assert.equal(joined.you.grants.chat, false, 'the token has no chat grant');
    assert.equal(joined.you.grants.host, true, 'the token has the host grant');
    assertForbidden(await ada.request({ type: 'chat_send', client_msg_id: 'c1', text: 'hi' }), 'chat');
    const m = await uploaded(relay, room, token, 'notes.pdf', pdfBytes('no chat'), { by: 'ada' });
    await share(ada, m.id);
    assertAttachmentMessage((await ada.waitForType('chat_message')).message, m, 'ada');
    await expectAdded([ada], m, m.size);
    await ada.leave();

    // The room is gone; then the relay restarts: the file and its entry stay.
    await relay.kill();
    relay = await ctx.relay(dir);
    const l = await list(relay, room, token);
    assert.equal(l.status, 200);
    assert.deepEqual(l.json.items, [m], 'the file survives the room and a restart');
    const d = await download(relay, room, token, m.id);
    assert.equal(d.status, 200);
    assert.equal(sha256(d.body), m.sha256, 'the bytes survive too');
  });
});

// ---------------------------------------------------------------- 2. downloads

test('materials: downloads, whole and in ranges, with the documented headers', { timeout: TEST_TIMEOUT }, async () => {
  await withCleanup(async (ctx) => {
    const dir = await ctx.dataDir();
    const relay = await ctx.relay(dir);
    const room = 'materials-download';
    const hostToken = await mintToken(dir, { room, identity: 'ada', name: 'Ada', host: true });
    // A member who never joins may download: "anyone whose token is for the room ..., joined or not".
    const reader = await mintToken(dir, { room, identity: 'dan', name: 'Dan' });

    // The encoder reproduces the doc's example.
    assert.equal(dispositionFor('Week 1 — slides.pdf'), `attachment; filename="Week 1 _ slides.pdf"; filename*=UTF-8''Week%201%20%E2%80%94%20slides%2Epdf`);

    const name = 'Week 1 — "slides" (v2).pdf';
    const bytes = pdfBytes('ranges', 200);
    const size = bytes.length;
    const m = await uploaded(relay, room, hostToken, name, bytes, { by: 'ada' });
    const etag = `"${m.sha256}"`;

    const commonHeaders = (res, what) => {
      const h = res.headers;
      assert.equal(h.get('content-type'), 'application/pdf', `${what}: Content-Type`);
      assert.equal(h.get('content-disposition'), dispositionFor(name), `${what}: Content-Disposition`);
      assert.equal(h.get('x-content-type-options'), 'nosniff', `${what}: X-Content-Type-Options`);
      assert.equal(h.get('content-security-policy'), "default-src 'none'; sandbox", `${what}: Content-Security-Policy`);
      assert.equal(h.get('cache-control'), 'private, no-cache', `${what}: Cache-Control`);
      assert.equal(h.get('accept-ranges'), 'bytes', `${what}: Accept-Ranges`);
      assert.equal(h.get('etag'), etag, `${what}: ETag is the sha256 in quotes`);
    };

    // The whole file.
    const whole = await download(relay, room, reader, m.id);
    assert.equal(whole.status, 200);
    commonHeaders(whole, 'whole');
    assert.equal(whole.headers.get('content-length'), String(size));
    assert.equal(whole.headers.get('content-range'), null, 'Content-Range only with 206');
    assert.ok(whole.body.equals(bytes), 'the bytes as uploaded');
    assert.equal(sha256(whole.body), m.sha256, 'the download checks against sha256');

    // HEAD: the same status and headers, no body.
    const head = await download(relay, room, reader, m.id, { method: 'HEAD' });
    assert.equal(head.status, 200);
    commonHeaders(head, 'HEAD');
    assert.equal(head.headers.get('content-length'), String(size));
    assert.equal(head.body.length, 0, 'HEAD has no body');

    // One range: 206 with Content-Range.
    const ranged = async (range, first, last) => {
      const res = await download(relay, room, reader, m.id, { range });
      assert.equal(res.status, 206, `Range ${range}: ${res.status} ${res.body.toString('latin1').slice(0, 200)}`);
      commonHeaders(res, `Range ${range}`);
      assert.equal(res.headers.get('content-range'), `bytes ${first}-${last}/${size}`, `Range ${range}: Content-Range`);
      assert.equal(res.headers.get('content-length'), String(last - first + 1), `Range ${range}: Content-Length is the bytes in this answer`);
      assert.ok(res.body.equals(bytes.subarray(first, last + 1)), `Range ${range}: the bytes asked for`);
    };
    await ranged('bytes=10-19', 10, 19);
    await ranged('bytes=0-0', 0, 0);
    await ranged(`bytes=${size - 5}-${size + 100}`, size - 5, size - 1); // a last past the end is cut
    await ranged('bytes=100-', 100, size - 1);
    await ranged(`bytes=${size - 1}-`, size - 1, size - 1);
    await ranged('bytes=-7', size - 7, size - 1);
    await ranged(`bytes=-${size + 50}`, 0, size - 1); // n ≥ size: the whole file, as 206
    await ranged('bytes= 3 - 8 ', 3, 8); // spaces around the numbers

    // Resuming: the rest from n, appended, gives the file.
    const firstPart = (await download(relay, room, reader, m.id, { range: 'bytes=0-49' })).body;
    const rest = await download(relay, room, reader, m.id, { range: `bytes=${firstPart.length}-` });
    assert.equal(rest.status, 206);
    assert.equal(sha256(Buffer.concat([firstPart, rest.body])), m.sha256, 'a resumed download checks against sha256');

    // 416: a range starting at or past the end, and bytes=-0.
    for (const range of [`bytes=${size}-`, `bytes=${size}-${size + 10}`, `bytes=${size + 1000}-5`, 'bytes=-0']) {
      const res = await download(relay, room, reader, m.id, { range });
      assertHttpError(res, 416, 'range_not_satisfiable', `Range ${range}`);
      assert.equal(res.headers.get('content-range'), `bytes */${size}`, `Range ${range}: Content-Range of a 416`);
    }

    // Any other Range is ignored: 200 with the whole file.
    for (const range of ['bytes=0-1,5-6', 'bytes=9-2', 'items=0-5', 'nonsense', 'BYTES=0-5']) {
      const res = await download(relay, room, reader, m.id, { range });
      assert.equal(res.status, 200, `Range ${range} is ignored`);
      assert.equal(res.headers.get('content-range'), null, `Range ${range}: no Content-Range`);
      assert.ok(res.body.equals(bytes), `Range ${range}: the whole file`);
    }

    // 404 not_found: an id not 32 lowercase hex digits, an unknown id, an id of another room.
    for (const id of [m.id.toUpperCase(), m.id.slice(1), `${m.id}0`, 'zz', '0'.repeat(32)]) {
      assertHttpError(await download(relay, room, reader, id), 404, 'not_found', `id ${id}`);
    }
    const otherToken = await mintToken(dir, { room: 'materials-other', identity: 'ada', name: 'Ada', host: true });
    assertHttpError(await download(relay, 'materials-other', otherToken, m.id), 404, 'not_found', 'an id of another room');

    // Another method gets 405 with an empty body.
    for (const [method, url] of [['PUT', `${base(relay, room)}/${m.id}`], ['DELETE', `${base(relay, room)}/${m.id}`], ['DELETE', base(relay, room)], ['PUT', base(relay, room)]]) {
      const res = await answer(await fetch(url, { method, headers: { authorization: `Bearer ${hostToken}` } }));
      assert.equal(res.status, 405, `${method} ${url}`);
      assert.equal(res.body.length, 0, `${method} ${url}: an empty body`);
    }
    // HEAD of the list: 200, no body.
    const headList = await answer(await fetch(base(relay, room), { method: 'HEAD', headers: { authorization: `Bearer ${reader}` } }));
    assert.equal(headList.status, 200);
    assert.equal(headList.body.length, 0);

    // Text is served with `; charset=utf-8`.
    const md = Buffer.from('# Notes\n\nπ ≈ 3.14\n', 'utf8');
    const mm = await uploaded(relay, room, hostToken, 'notes.md', md, { mime: 'text/markdown' });
    const mt = await uploaded(relay, room, hostToken, 'notes.txt', md, { mime: 'text/plain' });
    assert.equal((await download(relay, room, reader, mm.id)).headers.get('content-type'), 'text/markdown; charset=utf-8');
    assert.equal((await download(relay, room, reader, mt.id)).headers.get('content-type'), 'text/plain; charset=utf-8');
  });
});

// ---------------------------------------------------------------- 3. who may upload

test('materials: who may upload: hosts and presenters; everyone once a host says so', { timeout: TEST_TIMEOUT }, async () => {
  await withCleanup(async (ctx) => {
    const dir = await ctx.dataDir();
    const relay = await ctx.relay(dir);
    const room = 'materials-access';
    const [ada] = await enter(ctx, relay, dir, room, 'ada', { host: true });
    const [bob] = await enter(ctx, relay, dir, room, 'bob');
    const [cat] = await enter(ctx, relay, dir, room, 'cat');
    const everyone = [ada, bob, cat];

    // A member may not upload.
    let res = await upload(relay, room, bob.token, 'bob.pdf', pdfBytes('bob'));
    assertHttpError(res, 403, 'forbidden', 'a member uploads');
    assert.equal(res.json.error.message, UPLOAD_FORBIDDEN);
    // The name is checked before whether you may upload.
    assertHttpError(await upload(relay, room, bob.token, 'a/b.pdf', pdfBytes('bob')), 400, 'invalid_name', 'a member with a bad name');
    assert.deepEqual((await list(relay, room, ada.token)).json.items, [], 'nothing is kept of a refused upload');

    // materials_options: host only; the field is a required bool.
    assertForbidden(await bob.request({ type: 'materials_options', anyone_uploads: true }), 'host');
    assertBadField(await ada.request({ type: 'materials_options' }), 'anyone_uploads');
    assertBadField(await ada.request({ type: 'materials_options', anyone_uploads: 'yes' }), 'anyone_uploads');
    // Sending the value the room already has (false, the default): ack, nobody told.
    let marks = await settledMarks(everyone);
    assert.deepEqual(await ada.act({ type: 'materials_options', anyone_uploads: false, request_id: 'o0' }), { type: 'ack', request_id: 'o0' });
    await expectNothingSince(everyone, marks, MATERIAL_EVENTS, 'the default value again tells nobody');

    // anyone_uploads: true → ack and materials_access to everyone, the sender included.
    assert.deepEqual(await ada.act({ type: 'materials_options', anyone_uploads: true, request_id: 'o1' }), { type: 'ack', request_id: 'o1' });
    await expectAccess(everyone, true, 'ada');
    // The same value again: ack, no event.
    marks = await settledMarks(everyone);
    assert.deepEqual(await ada.act({ type: 'materials_options', anyone_uploads: true, request_id: 'o2' }), { type: 'ack', request_id: 'o2' });
    await expectNothingSince(everyone, marks, MATERIAL_EVENTS, 'a repeated materials_options tells nobody');
    assert.equal((await list(relay, room, cat.token)).json.anyone_uploads, true, 'the list shows anyone_uploads');
    const [, danJoined] = await enter(ctx, relay, dir, room, 'dan');
    assert.equal(danJoined.features.materials.anyone_uploads, true, 'joined shows anyone_uploads');

    // Now a member uploads and shares their own file; nobody else may share it.
    const mb = await uploaded(relay, room, bob.token, 'bob.pdf', pdfBytes('bob'), { by: 'bob' });
    const e = await ada.request({ type: 'material_share', id: mb.id });
    assertError(e, 'forbidden', false);
    assert.equal(e.message, SHARE_FORBIDDEN, 'not even a host shares a file it did not upload');
    await share(bob, mb.id);
    for (const c of everyone) assertAttachmentMessage((await c.waitForType('chat_message')).message, mb, 'bob');
    await expectAdded(everyone, mb, mb.size);

    // Back to false: members may not upload again, from the next upload on.
    assert.deepEqual(await ada.act({ type: 'materials_options', anyone_uploads: false, request_id: 'o3' }), { type: 'ack', request_id: 'o3' });
    await expectAccess(everyone, false, 'ada');
    assertHttpError(await upload(relay, room, bob.token, 'again.pdf', pdfBytes('again')), 403, 'forbidden', 'after anyone_uploads: false');

    // Presenters upload, joined or not, and delete anyone's file; taken back, they upload no more
    // but still share what they uploaded before.
    await ada.act({ type: 'set_presenter', identity: 'cat', presenter: true });
    await ada.act({ type: 'set_presenter', identity: 'eve', presenter: true });
    const eveToken = await mintToken(dir, { room, identity: 'eve', name: 'Eve' });
    await uploaded(relay, room, eveToken, 'eve.pdf', pdfBytes('eve'), { by: 'eve' });
    const mc = await uploaded(relay, room, cat.token, 'cat.pdf', pdfBytes('cat'), { by: 'cat' });
    await cat.waitUntil(() => cat.frames.some((f) => f.type === 'participant_updated' && f.participant.identity === 'cat' && f.participant.role === 'presenter'));
    assert.deepEqual(await cat.act({ type: 'material_delete', id: mb.id, request_id: 'd1' }), { type: 'ack', request_id: 'd1' });
    // materials_options "needs the host grant (presenters may not)".
    assertForbidden(await cat.request({ type: 'materials_options', anyone_uploads: true }), 'host');
    await ada.act({ type: 'set_presenter', identity: 'cat', presenter: false });
    assertHttpError(await upload(relay, room, cat.token, 'late.pdf', pdfBytes('late')), 403, 'forbidden', 'a former presenter');
    await share(cat, mc.id);
    assertAttachmentMessage((await bob.waitForType('chat_message', 5000, (f) => f.message.attachment?.id === mc.id)).message, mc, 'cat');
  });
});

// ---------------------------------------------------------------- 4. deleting

test('materials: material_delete: uploader, host and presenters; the chat message stays, the download 404s', { timeout: TEST_TIMEOUT }, async () => {
  await withCleanup(async (ctx) => {
    const dir = await ctx.dataDir();
    const relay = await ctx.relay(dir);
    const room = 'materials-delete';
    const [ada] = await enter(ctx, relay, dir, room, 'ada', { host: true });
    const [bob] = await enter(ctx, relay, dir, room, 'bob');
    const [cat] = await enter(ctx, relay, dir, room, 'cat');
    const everyone = [ada, bob, cat];
    await ada.act({ type: 'materials_options', anyone_uploads: true });
    await expectAccess(everyone, true, 'ada');

    const ma = await uploaded(relay, room, ada.token, 'host.pdf', pdfBytes('host'), { by: 'ada' });
    await share(ada, ma.id);
    await expectAdded(everyone, ma, ma.size);
    const mb = await uploaded(relay, room, bob.token, 'bob.pdf', pdfBytes('bob'), { by: 'bob' });
    await share(bob, mb.id);
    await expectAdded(everyone, mb, ma.size + mb.size);
    const mb2 = await uploaded(relay, room, bob.token, 'bob unshared.pdf', pdfBytes('bob 2'), { by: 'bob' });
    let used = ma.size + mb.size + mb2.size;

    // The errors: bad_message, invalid_id, not_found before forbidden, forbidden.
    assertBadField(await bob.request({ type: 'material_delete' }), 'id');
    assertError(await bob.request({ type: 'material_delete', id: 'XYZ', request_id: 'e1' }), 'invalid_id', false, 'e1');
    assertError(await bob.request({ type: 'material_delete', id: 'f'.repeat(32), request_id: 'e2' }), 'not_found', false, 'e2');
    let marks = await settledMarks(everyone);
    const e = await bob.request({ type: 'material_delete', id: ma.id, request_id: 'e3' });
    assertError(e, 'forbidden', false, 'e3');
    assert.equal(e.message, DELETE_FORBIDDEN);
    assertError(await cat.request({ type: 'material_delete', id: mb.id, request_id: 'e4' }), 'forbidden', false, 'e4');
    await expectNothingSince(everyone, marks, MATERIAL_EVENTS, 'a refused delete tells nobody');
    assert.equal((await download(relay, room, cat.token, ma.id)).status, 200, 'a refused delete deletes nothing');

    // The uploader deletes their own shared file: ack, material_removed to everyone, used_bytes down at once.
    used -= mb.size;
    assert.deepEqual(await bob.act({ type: 'material_delete', id: mb.id, request_id: 'd1' }), { type: 'ack', request_id: 'd1' });
    await expectRemoved(everyone, mb.id, 'bob', used);
    assert.equal((await list(relay, room, cat.token)).json.used_bytes, used, 'the list gives the bytes back at once');
    assertHttpError(await download(relay, room, cat.token, mb.id), 404, 'not_found', 'a deleted file');
    assertError(await bob.request({ type: 'material_delete', id: mb.id, request_id: 'e5' }), 'not_found', false, 'e5');
    // The attachment message stays in chat.
    const page = await cat.history();
    assertAttachmentMessage(page.messages.find((msg) => msg.client_msg_id === `material-${mb.id}`), mb, 'bob');

    // The uploader of a file never shared ("the identity that uploaded the file") deletes it too.
    used -= mb2.size;
    assert.deepEqual(await bob.act({ type: 'material_delete', id: mb2.id, request_id: 'd2' }), { type: 'ack', request_id: 'd2' });
    await expectRemoved(everyone, mb2.id, 'bob', used);

    // The host deletes anyone's file.
    const mc = await uploaded(relay, room, cat.token, 'cat.pdf', pdfBytes('cat'), { by: 'cat' });
    assert.deepEqual(await ada.act({ type: 'material_delete', id: mc.id, request_id: 'd3' }), { type: 'ack', request_id: 'd3' });
    await expectRemoved(everyone, mc.id, 'ada', used);
    assert.equal((await cat.request({ type: 'material_share', id: mc.id })).code, 'not_found', 'a deleted file cannot be shared');

    // And their own.
    assert.deepEqual(await ada.act({ type: 'material_delete', id: ma.id, request_id: 'd4' }), { type: 'ack', request_id: 'd4' });
    await expectRemoved(everyone, ma.id, 'ada', 0);
    assertHttpError(await download(relay, room, bob.token, ma.id), 404, 'not_found', 'the host\'s deleted file');
    assert.deepEqual((await list(relay, room, bob.token)).json.items, [], 'nothing left');
  });
});

// ---------------------------------------------------------------- 5. names and types

test('materials: file names are checked and kept for display; types come from the content', { timeout: TEST_TIMEOUT }, async () => {
  await withCleanup(async (ctx) => {
    const dir = await ctx.dataDir();
    const relay = await ctx.relay(dir);
    const room = 'materials-names';
    const token = await mintToken(dir, { room, identity: 'ada', name: 'Ada', host: true });
    const pdf = pdfBytes('names');

    // Refused names: 400 invalid_name.
    const refused = {
      'a path': 'slides/week1.pdf',
      'a Windows path': 'slides\\week1.pdf',
      'a traversal': '../../etc/passwd',
      dot: '.',
      'dot dot': '..',
      'spaces only': '   ',
      empty: '',
      'a bidi override': 'report\u202Efdp.exe',
      'a bidi isolate': 'notes\u2066.pdf',
      'a left-to-right mark': 'notes\u200E.pdf',
      'an Arabic letter mark': 'notes\u061C.pdf',
      'a NUL': 'a\u0000b.pdf',
      'a newline': 'a\nb.pdf',
      'a DEL': 'a\u007Fb.pdf',
      'a C1 control': 'a\u0085b.pdf',
      '256 bytes': 'x'.repeat(252) + '.pdf',
    };
    for (const [why, name] of Object.entries(refused)) {
      assertHttpError(await upload(relay, room, token, name, pdf), 400, 'invalid_name', why);
    }
    const long = await upload(relay, room, token, 'x'.repeat(10_000), pdf);
    assertHttpError(long, 400, 'invalid_name', 'a 10000-byte name');
    assert.equal(long.json.error.message, 'the file name is 10000 bytes; the limit is 255', 'the message gives the length');
    const nul = await upload(relay, room, token, 'a\u0007b.pdf', pdf);
    assert.match(nul.json.error.message, /U\+0007/, `the message names the control character: ${nul.json.error.message}`);
    // No name, and two names.
    assertHttpError(await upload(relay, room, token, undefined, pdf, { query: '' }), 400, 'invalid_name', 'no name');
    assertHttpError(await upload(relay, room, token, undefined, pdf, { query: 'name=a.pdf&name=b.pdf' }), 400, 'invalid_name', 'two names');
    assert.deepEqual((await list(relay, room, token)).json.items, [], 'nothing is kept of refused uploads');

    // Kept: trimmed, 255 bytes exactly, look-alikes, invisible characters, `+` as %2B, a name given twice.
    await uploaded(relay, room, token, '  padded name.pdf \t', pdf);
    await uploaded(relay, room, token, 'é'.repeat(125) + '.pdf', pdf); // 250 + 4 = 254 bytes
    await uploaded(relay, room, token, 'y'.repeat(251) + '.pdf', pdf); // 255 bytes
    await uploaded(relay, room, token, 'slides.\u0440df', pdf); // Cyrillic р
    await uploaded(relay, room, token, 'ｓｌｉｄｅｓ.pdf', pdf);
    await uploaded(relay, room, token, 'zero\u200Bwidth.pdf', pdf);
    await uploaded(relay, room, token, 'C++ notes.pdf', pdf);
    const spaced = await upload(relay, room, token, undefined, pdf, { query: 'name=two+words.pdf' });
    assert.equal(spaced.status, 201);
    assert.equal(spaced.json.name, 'two words.pdf', '`+` in the query stands for a space');

    // Types from the content, never from the name or the Content-Type.
    const html = Buffer.from('<!DOCTYPE html>\n<html><body><script>alert(1)</script></body></html>\n');
    const lying = await upload(relay, room, token, 'slides.pdf', html, { headers: { 'content-type': 'application/pdf' } });
    assertHttpError(lying, 415, 'unsupported_type', 'HTML named .pdf');
    const refusedContent = {
      'HTML after white space': Buffer.from('  \n<html>\n<p>hi</p>\n</html>\n'),
      'an HTML comment in Markdown': Buffer.from('<!-- draft -->\n# Title\n'),
      SVG: Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"></svg>\n'),
      XML: Buffer.from('<?xml version="1.0"?><a/>\n'),
      'a script': Buffer.from('#!/bin/sh\necho hi\n'),
      ELF: Buffer.concat([Buffer.from([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0]), Buffer.alloc(120)]),
      'binary junk': Buffer.from([0x00, 0x01, 0x02, 0xff, 0xfe, 0x00, 0x10]),
      'text with a NUL': Buffer.from('hello\u0000world\n'),
    };
    for (const [why, bytes] of Object.entries(refusedContent)) {
      assertHttpError(await upload(relay, room, token, 'file.md', bytes), 415, 'unsupported_type', why);
    }
    // A name cannot make text anything else; `.md`/`.markdown` in any case make it Markdown.
    const text = Buffer.from('just some notes\n', 'utf8');
    await uploaded(relay, room, token, 'notes.pdf', text, { mime: 'text/plain' });
    await uploaded(relay, room, token, 'notes.MD', text, { mime: 'text/markdown' });
    await uploaded(relay, room, token, 'notes.Markdown', text, { mime: 'text/markdown' });
    await uploaded(relay, room, token, 'notes', text, { mime: 'text/plain' });
    // A PDF is a PDF whatever its name; PNG by its signature.
    await uploaded(relay, room, token, 'readme.md', pdf, { mime: 'application/pdf' });
    const png = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.from('0000000d49484452000000010000000108060000001f15c489', 'hex')]);
    await uploaded(relay, room, token, 'pixel.pdf', png, { mime: 'image/png' });
    // An empty file: 400 empty_file.
    assertHttpError(await upload(relay, room, token, 'empty.txt', Buffer.alloc(0)), 400, 'empty_file', 'an empty file');
  });
});

// ---------------------------------------------------------------- 6. tokens

test('materials: every HTTP call checks the token: missing, invalid, another room, no join grant, banned', { timeout: TEST_TIMEOUT }, async () => {
  await withCleanup(async (ctx) => {
    const dir = await ctx.dataDir();
    const relay = await ctx.relay(dir);
    const room = 'materials-tokens';
    const [ada] = await enter(ctx, relay, dir, room, 'ada', { host: true });
    const [mallory] = await enter(ctx, relay, dir, room, 'mallory');
    const m = await uploaded(relay, room, ada.token, 'a.pdf', pdfBytes('tokens'), { by: 'ada' });
    const pdf = pdfBytes('x');

    // token_missing: no Authorization, or an empty token.
    assertHttpError(await upload(relay, room, undefined, 'b.pdf', pdf), 401, 'token_missing', 'upload without Authorization');
    assertHttpError(await answer(await fetch(base(relay, room))), 401, 'token_missing', 'list without Authorization');
    assertHttpError(await answer(await fetch(`${base(relay, room)}/${m.id}`, { headers: { authorization: 'Bearer ' } })), 401, 'token_missing', 'an empty token');
    // token_invalid: not a JWT, or a signature not from this relay's secret.
    assertHttpError(await list(relay, room, 'not.a.jwt'), 401, 'token_invalid', 'a malformed token');
    const [h, p] = ada.token.split('.');
    assertHttpError(await list(relay, room, `${h}.${p}.${Buffer.from('forged').toString('base64url')}`), 401, 'token_invalid', 'a bad signature');
    // The token is checked before the name: a bad token with a bad name is still 401.
    assertHttpError(await upload(relay, room, 'nope', '../x', pdf), 401, 'token_invalid', 'the token comes first');

    // A token for another room: 403 token_wrong_room, on every route.
    const other = await mintToken(dir, { room: 'materials-elsewhere', identity: 'ada', name: 'Ada', host: true });
    assertHttpError(await upload(relay, room, other, 'b.pdf', pdf), 403, 'token_wrong_room', 'upload with another room\'s token');
    assertHttpError(await list(relay, room, other), 403, 'token_wrong_room', 'list with another room\'s token');
    assertHttpError(await download(relay, room, other, m.id), 403, 'token_wrong_room', 'download with another room\'s token');

    // A token without the join grant: 403 forbidden.
    const noJoin = await mintToken(dir, { room, identity: 'zed', name: 'Zed', grants: 'subscribe,chat' });
    assertHttpError(await list(relay, room, noJoin), 403, 'forbidden', 'no join grant: list');
    assertHttpError(await download(relay, room, noJoin, m.id), 403, 'forbidden', 'no join grant: download');

    // A kicked identity gets 403 banned on every call while the room lives.
    assert.equal((await list(relay, room, mallory.token)).status, 200, 'before the kick');
    await ada.act({ type: 'kick', identity: 'mallory' });
    await mallory.waitClose();
    assertHttpError(await list(relay, room, mallory.token), 403, 'banned', 'list after a kick');
    assertHttpError(await download(relay, room, mallory.token, m.id), 403, 'banned', 'download after a kick');
    assertHttpError(await upload(relay, room, mallory.token, 'b.pdf', pdf), 403, 'banned', 'upload after a kick');
  });
});

// ---------------------------------------------------------------- 7. limits

test('materials: a relay with small limits: file_too_large, room_quota, bytes given back, the word filter', { timeout: TEST_TIMEOUT }, async () => {
  await withCleanup(async (ctx) => {
    const dir = await ctx.dataDir();
    const relay = await ctx.relay(dir, { config: 'max_upload_bytes = 1000\nroom_materials_quota_bytes = 1500\nword_filter = ["darn"]\n' });
    const room = 'materials-limits';
    const [ada, joined] = await enter(ctx, relay, dir, room, 'ada', { host: true });
    assert.deepEqual(joined.features.materials, { items: [], anyone_uploads: false, max_file_bytes: 1000, quota_bytes: 1500, used_bytes: 0, uploads_at_once: DEFAULT_UPLOADS_AT_ONCE }, 'joined gives the values in force');

    // Over max_upload_bytes: by Content-Length, and as it arrives (chunked).
    let res = await upload(relay, room, ada.token, 'big.txt', textBytes(1001));
    assertHttpError(res, 413, 'file_too_large', 'by Content-Length');
    res = await upload(relay, room, ada.token, 'big.txt', textBytes(1001), { chunked: true });
    assertHttpError(res, 413, 'file_too_large', 'chunked');
    res = await upload(relay, room, ada.token, 'big.txt', textBytes(5000), { chunked: true });
    assertHttpError(res, 413, 'file_too_large', 'chunked, well over');
    assert.equal((await list(relay, room, ada.token)).json.used_bytes, 0, 'a refused upload takes no quota');

    // Exactly max_upload_bytes fits.
    const m1 = await uploaded(relay, room, ada.token, 'darn notes.txt', textBytes(1000), { by: 'ada', mime: 'text/plain' });
    // 1000 used of 1500: 501 more is over the quota (by Content-Length, and chunked, at the end).
    res = await upload(relay, room, ada.token, 'b.txt', textBytes(501));
    assertHttpError(res, 413, 'room_quota', 'by Content-Length');
    assert.match(res.json.error.message, /1000/, `the message says how much is used: ${res.json.error.message}`);
    res = await upload(relay, room, ada.token, 'b.txt', textBytes(501), { chunked: true });
    assertHttpError(res, 413, 'room_quota', 'chunked');
    // Exactly to the quota fits; then not one byte more.
    const m2 = await uploaded(relay, room, ada.token, 'b.txt', textBytes(500), { mime: 'text/plain' });
    assertHttpError(await upload(relay, room, ada.token, 'c.txt', textBytes(1)), 413, 'room_quota', 'a full room');
    assertHttpError(await upload(relay, room, ada.token, 'c.txt', textBytes(1), { chunked: true }), 413, 'room_quota', 'a full room, chunked');
    // The file size limit is checked before the quota.
    assertHttpError(await upload(relay, room, ada.token, 'c.txt', textBytes(1001)), 413, 'file_too_large', 'file limit before quota');
    assert.equal((await list(relay, room, ada.token)).json.used_bytes, 1500);

    // The word filter masks the attachment message's text, not attachment.name.
    await share(ada, m1.id);
    const msg = (await ada.waitForType('chat_message')).message;
    assertAttachmentMessage(msg, m1, 'ada', '**** notes.txt');
    await expectAdded([ada], m1, 1500);

    // A deleted file gives its bytes back at once.
    await ada.act({ type: 'material_delete', id: m1.id });
    await expectRemoved([ada], m1.id, 'ada', 500);
    await uploaded(relay, room, ada.token, 'again.txt', textBytes(1000), { mime: 'text/plain' });
    assert.deepEqual((await list(relay, room, ada.token)).json.items.map((x) => x.id).slice(0, 1), [m2.id]);
  });
});

test('materials: uploads under way: uploads_at_once per person and room, then 429 too_many_uploads', { timeout: TEST_TIMEOUT }, async () => {
  await withCleanup(async (ctx) => {
    const dir = await ctx.dataDir();
    const relay = await ctx.relay(dir);
    const room = 'materials-at-once';
    const token = await mintToken(dir, { room, identity: 'ada', name: 'Ada', host: true });
    const other = await mintToken(dir, { room, identity: 'ben', name: 'Ben', host: true });

    const held = [heldUpload(relay, room, token, 'one.pdf'), heldUpload(relay, room, token, 'two.pdf')];
    await Promise.all(held.map((u) => u.continued));
    // Two of ada's uploads are under way: a third gets 429, without Retry-After.
    const res = await upload(relay, room, token, 'three.pdf', pdfBytes('three'));
    assertHttpError(res, 429, 'too_many_uploads', 'a third upload');
    assert.equal(res.headers.get('retry-after'), null, 'no Retry-After');
    // Checks that come before the count still answer first: the name, the declared
    // Content-Length against the file limit (refused before the body is read).
    assertHttpError(await upload(relay, room, token, 'a/b.pdf', pdfBytes('x')), 400, 'invalid_name', 'the name before the count');
    const tooBig = await declaredOnly(relay, room, token, 'huge.pdf', DEFAULT_MAX_FILE_BYTES + 1);
    assert.equal(tooBig.status, 413, `a declared Content-Length over the limit: ${tooBig.body}`);
    assert.equal(tooBig.json?.error?.code, 'file_too_large', tooBig.body);
    // Another person is counted on their own.
    await uploaded(relay, room, other, 'ben.pdf', pdfBytes('ben'), { by: 'ben' });

    const bodies = [pdfBytes('one'), pdfBytes('two')];
    held.forEach((u, i) => u.finish(bodies[i]));
    const done = await Promise.all(held.map((u) => u.response));
    done.forEach((d, i) => {
      assert.equal(d.status, 201, `a held upload completes: ${d.body}`);
      assertMaterial(d.json, { sha256: sha256(bodies[i]), size: bodies[i].length, by: 'ada' });
    });
    // Once they ended, ada may upload again.
    await uploaded(relay, room, token, 'three.pdf', pdfBytes('three'), { by: 'ada' });
  });
});
