// The harness of the doc-client tests: relays on free ports with fresh data dirs, tokens
// minted with `studyhall-relay token ... --data-dir SAME_DIR`, clients that join, and the
// assertions every test file shares. Written only from docs/protocol.md.

import assert from 'node:assert/strict';
import { spawn, execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import net from 'node:net';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { StudyhallClient, wsUrl } from './client.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
export const RELAY_BIN = path.resolve(here, process.env.STUDYHALL_RELAY_BIN || '../../target/debug/studyhall-relay');
export const TEST_TIMEOUT = 30_000;

// The relay reads every STUDYHALL_* environment variable as configuration and refuses
// ones it does not know (STUDYHALL_RELAY_BIN included), so children get an environment
// without them; everything the test needs is passed as flags.
export const CHILD_ENV = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('STUDYHALL_')));

// ---------------------------------------------------------------- relay harness

const liveRelays = new Set();
process.on('exit', () => {
  for (const child of liveRelays) {
    try {
      child.kill('SIGKILL');
    } catch {}
  }
});

export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

export function httpGet(url, timeoutMs = 1000) {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { timeout: timeoutMs }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode, body }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
  });
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export async function makeDataDir() {
  return mkdtemp(path.join(os.tmpdir(), 'studyhall-doc-client-'));
}

/**
 * Start `studyhall-relay serve` and wait for GET /healthz → 200. `config`: the text of a
 * TOML configuration file (e.g. `word_filter = ["darn"]`), written beside the data and
 * passed with `--config`.
 */
export async function startRelay(dataDir, { readyTimeoutMs = 10_000, config } = {}) {
  if (!existsSync(RELAY_BIN)) throw new Error(`relay binary not found at ${RELAY_BIN} (set STUDYHALL_RELAY_BIN)`);
  const port = await freePort();
  const args = ['serve', '--data-dir', dataDir, '--listen', `127.0.0.1:${port}`, '--media-port', '0'];
  if (config !== undefined) {
    const file = path.join(dataDir, 'relay.toml');
    await writeFile(file, config);
    args.push('--config', file);
  }
  const child = spawn(RELAY_BIN, args, {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: CHILD_ENV,
  });
  liveRelays.add(child);
  let log = '';
  child.stdout.on('data', (d) => (log += d));
  child.stderr.on('data', (d) => (log += d));
  const exited = new Promise((resolve) => {
    child.on('exit', (code, signal) => {
      liveRelays.delete(child);
      resolve({ code, signal });
    });
  });
  const relay = {
    child,
    port,
    url: wsUrl('127.0.0.1', port),
    http: `http://127.0.0.1:${port}`,
    exited,
    get log() {
      return log;
    },
    get running() {
      return child.exitCode === null && child.signalCode === null;
    },
    /** Hard stop; used for cleanup. */
    async kill() {
      if (!relay.running) return;
      child.kill('SIGKILL');
      await exited;
    },
  };
  const deadline = Date.now() + readyTimeoutMs;
  for (;;) {
    if (!relay.running) throw new Error(`relay exited before it was ready:\n${log}`);
    try {
      const res = await httpGet(`${relay.http}/healthz`, 500);
      if (res.status === 200) return relay;
    } catch {}
    if (Date.now() > deadline) {
      await relay.kill();
      throw new Error(`relay not healthy within ${readyTimeoutMs} ms:\n${log}`);
    }
    await sleep(100);
  }
}

/** Mint a token with the relay's CLI, against the same data dir. */
export function mintToken(dataDir, { room, identity, name, host = false, ttl, grants }) {
  const args = ['token', '--room', room, '--identity', identity, '--name', name, '--data-dir', dataDir];
  if (host) args.push('--host');
  if (ttl) args.push('--ttl', ttl);
  if (grants) args.push('--grants', grants);
  return new Promise((resolve, reject) => {
    execFile(RELAY_BIN, args, { timeout: 10_000, env: CHILD_ENV }, (err, stdout, stderr) => {
      if (err) return reject(new Error(`token command failed: ${err.message}\n${stderr}`));
      const token = stdout.trim();
      if (token.split('.').length !== 3) return reject(new Error(`token command printed no JWT: ${JSON.stringify(stdout)}`));
      resolve(token);
    });
  });
}

/**
 * Run `body` with a cleanup list; relays, clients and data dirs are torn down even when
 * the body throws.
 */
export async function withCleanup(body) {
  const relays = [];
  const clients = [];
  const dirs = [];
  const ctx = {
    async relay(dataDir, options) {
      const r = await startRelay(dataDir, options);
      relays.push(r);
      return r;
    },
    async dataDir() {
      const d = await makeDataDir();
      dirs.push(d);
      return d;
    },
    async connect(relay) {
      const c = await StudyhallClient.connect(relay.url);
      clients.push(c);
      return c;
    },
  };
  try {
    await body(ctx);
  } catch (e) {
    for (const r of relays) if (r.log) e.message += `\n--- relay log (port ${r.port}) ---\n${r.log.slice(-4000)}`;
    throw e;
  } finally {
    for (const c of clients) c.terminate();
    for (const r of relays) await r.kill();
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  }
}

/** Connect and join; returns [client, joined]. */
export async function joinAs(ctx, relay, room, token, extra = {}) {
  const c = await ctx.connect(relay);
  const joined = await c.join({ room, token, ...extra });
  return [c, joined];
}

/** Asserts an error frame: code, fatal flag and (optionally) request_id. */
/** A display name for `identity`: the identity, capitalized. */
export const capitalized = (s) => s.charAt(0).toUpperCase() + s.slice(1);

/**
 * Mint a token for `identity` (display name: the identity, capitalized) and join with
 * it (and `media`, if given); the client keeps its token for `rejoin`.
 */
export async function enter(ctx, relay, dir, room, identity, { host = false, media } = {}) {
  const token = await mintToken(dir, { room, identity, name: capitalized(identity), host });
  const [c, joined] = await joinAs(ctx, relay, room, token, media === undefined ? {} : { media });
  c.token = token;
  return [c, joined];
}

/** Join again with `old`'s token on a new socket (the old one may still be open). */
export async function rejoin(ctx, relay, room, old) {
  const [c, joined] = await joinAs(ctx, relay, room, old.token);
  c.token = old.token;
  return [c, joined];
}

export function assertError(frame, code, fatal, request_id) {
  assert.equal(frame.type, 'error', `expected an error frame, got ${JSON.stringify(frame)}`);
  assert.equal(frame.code, code, `error code: ${JSON.stringify(frame)}`);
  assert.equal(frame.fatal, fatal, `fatal flag for ${code}: ${JSON.stringify(frame)}`);
  assert.equal(typeof frame.message, 'string');
  if (request_id !== undefined) assert.equal(frame.request_id, request_id, `request_id echoed: ${JSON.stringify(frame)}`);
}

let settleNonce = 1000;

/**
 * A `ping` round trip on each client, so that what the relay sent them before has
 * arrived. Used before checking that something was *not* sent.
 */
export async function settle(...clients) {
  for (const c of clients) await c.ping(settleNonce++);
}
/** Assert a non-fatal `forbidden` whose message names the grant. */
export function assertForbidden(frame, grant, request_id) {
  assertError(frame, 'forbidden', false, request_id);
  assert.match(frame.message, new RegExp(`\\b${grant}\\b`), `forbidden names the \`${grant}\` grant: ${JSON.stringify(frame)}`);
}

/** Assert a non-fatal `bad_message` whose message names the field. */
export function assertBadField(frame, field, request_id) {
  assertError(frame, 'bad_message', false, request_id);
  assert.match(frame.message, new RegExp(`\\b${field}\\b`), `bad_message names the field \`${field}\`: ${JSON.stringify(frame)}`);
}
