// Browser interop test: a Chromium page (page/client.js, written only from
// docs/protocol.md) and `studyhall-client` meet in one room of a fresh `studyhall-relay`,
// and each must decode the other's camera and receive the other's microphone. The page
// also publishes its camera in two layers (the relay tells it nobody receives the small
// one) and shows the CLI's camera in a small tile and a large one (`set_view`: the relay
// switches layers on the m-line Chromium decodes).
//
// Binaries: STUDYHALL_RELAY_BIN (default ../../target/debug/studyhall-relay) and
// STUDYHALL_CLIENT_BIN (default ../../target/debug/studyhall-client), relative to this file.
// Browser: CHROMIUM_BIN (default /usr/bin/chromium), driven with playwright-core.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFile } from 'node:child_process';
import { mkdtemp, rm, readFile } from 'node:fs/promises';
import { existsSync, createReadStream } from 'node:fs';
import net from 'node:net';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { chromium } from 'playwright-core';

const here = path.dirname(fileURLToPath(import.meta.url));
const RELAY_BIN = path.resolve(here, process.env.STUDYHALL_RELAY_BIN || '../../target/debug/studyhall-relay');
const CLIENT_BIN = path.resolve(here, process.env.STUDYHALL_CLIENT_BIN || '../../target/debug/studyhall-client');
const CHROMIUM_BIN = process.env.CHROMIUM_BIN || '/usr/bin/chromium';
const PAGE_DIR = path.join(here, 'page');

const ROOM = 'interop';
const CLI_DURATION_S = 30;
const MEDIA_TIMEOUT_MS = 25_000; // both directions must show media within this
const MIN_FRAMES = 30;
// INTEROP_VERBOSE=1 prints the page log, the CLI output and the relay log even on success.

// The relay reads STUDYHALL_* variables as configuration (and refuses unknown ones, such
// as STUDYHALL_RELAY_BIN), so child processes get an environment without them.
const CHILD_ENV = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('STUDYHALL_')));

const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--use-fake-device-for-media-stream',
  '--use-fake-ui-for-media-stream',
];

// Hard stop for every child still alive when the process exits, whatever happened.
const liveChildren = new Set();
process.on('exit', () => {
  for (const c of liveChildren) {
    try {
      c.kill('SIGKILL');
    } catch {}
  }
});

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** `promise`'s value, or null after `ms`; the timer does not outlive the wait. */
async function withTimeout(promise, ms) {
  let timer;
  try {
    return await Promise.race([promise, new Promise((r) => (timer = setTimeout(() => r(null), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}

function freePort() {
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

function httpGet(url, timeoutMs = 1000) {
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

/** Spawn a child whose output is collected; returns {child, exited, output(), running()}. */
function startChild(bin, args) {
  const child = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'], env: CHILD_ENV });
  liveChildren.add(child);
  let out = '';
  const keep = (d) => {
    out += d;
    if (out.length > 2_000_000) out = out.slice(-1_000_000);
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  const exited = new Promise((resolve) => {
    child.on('error', (err) => {
      keep(`\n[spawn error: ${err.message}]\n`);
      liveChildren.delete(child);
      resolve({ code: null, signal: null, error: err });
    });
    child.on('exit', (code, signal) => {
      liveChildren.delete(child);
      resolve({ code, signal });
    });
  });
  const running = () => child.exitCode === null && child.signalCode === null && liveChildren.has(child);
  return {
    child,
    exited,
    running,
    output: () => out,
    async kill() {
      if (!running()) return;
      child.kill('SIGKILL');
      await exited;
    },
  };
}

async function startRelay(dataDir) {
  if (!existsSync(RELAY_BIN)) throw new Error(`relay binary not found at ${RELAY_BIN} (set STUDYHALL_RELAY_BIN)`);
  const port = await freePort();
  const relay = startChild(RELAY_BIN, ['serve', '--data-dir', dataDir, '--listen', `127.0.0.1:${port}`, '--media-port', '0']);
  relay.port = port;
  const deadline = Date.now() + 10_000;
  for (;;) {
    if (!relay.running()) throw new Error(`relay exited before it was ready:\n${relay.output()}`);
    try {
      const res = await httpGet(`http://127.0.0.1:${port}/healthz`, 500);
      if (res.status === 200) return relay;
    } catch {}
    if (Date.now() > deadline) {
      await relay.kill();
      throw new Error(`relay not healthy within 10 s:\n${relay.output()}`);
    }
    await sleep(100);
  }
}

function mintToken(dataDir, identity, name) {
  const args = ['token', '--data-dir', dataDir, '--room', ROOM, '--identity', identity, '--name', name];
  return new Promise((resolve, reject) => {
    execFile(RELAY_BIN, args, { timeout: 10_000, env: CHILD_ENV }, (err, stdout, stderr) => {
      if (err) return reject(new Error(`token command failed: ${err.message}\n${stderr}`));
      const token = stdout.trim();
      if (token.split('.').length !== 3) return reject(new Error(`token command printed no JWT: ${JSON.stringify(stdout)}`));
      resolve(token);
    });
  });
}

/** Tiny static server for page/ on 127.0.0.1 (a potentially trustworthy origin). */
function startStaticServer() {
  const types = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8' };
  const server = http.createServer((req, res) => {
    const urlPath = decodeURIComponent(new URL(req.url, 'http://x').pathname);
    const rel = urlPath === '/' ? 'index.html' : urlPath.replace(/^\/+/, '');
    const file = path.resolve(PAGE_DIR, rel);
    if (!file.startsWith(PAGE_DIR + path.sep) || !existsSync(file)) {
      res.writeHead(404, { 'content-type': 'text/plain' });
      res.end('not found');
      return;
    }
    res.writeHead(200, { 'content-type': types[path.extname(file)] || 'application/octet-stream', 'cache-control': 'no-store' });
    createReadStream(file).pipe(res);
  });
  return new Promise((resolve, reject) => {
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => resolve(server));
  });
}

const tail = (s, n = 40) => s.split('\n').slice(-n).join('\n');
const stripAnsi = (s) => s.replace(/\x1b\[[0-9;]*m/g, '');

function cliInbound(stats, kind) {
  if (!stats || !stats.subscribe) return null;
  return stats.subscribe.inbound.find((s) => s.kind === kind && s.identity === 'cli' && s.listed) || null;
}

test('Chromium page and studyhall-client exchange camera and microphone through the relay', { timeout: 75_000 }, async (t) => {
  const tmp = await mkdtemp(path.join(os.tmpdir(), 'studyhall-browser-'));
  const dataDir = path.join(tmp, 'data');
  const profileDir = path.join(tmp, 'chromium-profile');
  const statsFile = path.join(tmp, 'cli-stats.json');
  let relay = null;
  let cli = null;
  let context = null;
  let server = null;
  let page = null;
  const consoleLines = [];
  let lastStats = null;
  let failed = true;

  try {
    if (!existsSync(CLIENT_BIN)) throw new Error(`client binary not found at ${CLIENT_BIN} (set STUDYHALL_CLIENT_BIN)`);
    relay = await startRelay(dataDir);
    const [browserToken, cliToken] = await Promise.all([
      mintToken(dataDir, 'browser', 'Browser'),
      mintToken(dataDir, 'cli', 'CLI'),
    ]);
    server = await startStaticServer();
    const pageUrl = `http://127.0.0.1:${server.address().port}/index.html`;

    context = await chromium.launchPersistentContext(profileDir, {
      executablePath: CHROMIUM_BIN,
      headless: true,
      args: CHROMIUM_ARGS,
      permissions: ['camera', 'microphone'],
      timeout: 15_000,
    });
    page = context.pages()[0] || (await context.newPage());
    page.on('console', (m) => consoleLines.push(`[console.${m.type()}] ${m.text()}`));
    page.on('pageerror', (e) => consoleLines.push(`[pageerror] ${e.message}`));
    await page.goto(pageUrl, { timeout: 10_000 });
    await page.waitForFunction(() => !!window.studyhall, null, { timeout: 5_000 });

    // The CLI joins first and publishes for CLI_DURATION_S; the page joins right after.
    cli = startChild(CLIENT_BIN, [
      'join',
      '--url', `ws://127.0.0.1:${relay.port}`,
      '--token', cliToken,
      '--video', 'test-pattern',
      '--audio', 'tone',
      '--duration', `${CLI_DURATION_S}s`,
      '--stats-json', statsFile,
    ]);
    const started = Date.now();
    const runResult = await page.evaluate(
      (args) => window.studyhall.run(args),
      { url: `ws://127.0.0.1:${relay.port}/ws`, room: ROOM, token: browserToken },
    );
    t.diagnostic(`page joined as ${runResult.identity}; participants ${runResult.participants.join(',')}`);

    // (a) the page decodes the CLI's camera and receives its microphone; the page also
    // encodes and sends its own camera.
    let ok = false;
    while (Date.now() - started < MEDIA_TIMEOUT_MS) {
      lastStats = await page.evaluate(() => window.studyhall.stats());
      const v = cliInbound(lastStats, 'video');
      const a = cliInbound(lastStats, 'audio');
      const outV = lastStats.publish && lastStats.publish.outbound.find((s) => s.kind === 'video');
      if (v && v.framesDecoded >= MIN_FRAMES && v.source === 'camera' && a && a.packetsReceived >= 50 && a.source === 'microphone' && outV && outV.framesEncoded >= MIN_FRAMES) {
        ok = true;
        break;
      }
      if (!cli.running()) break;
      await sleep(250);
    }
    const v = cliInbound(lastStats, 'video');
    const a = cliInbound(lastStats, 'audio');
    t.diagnostic(`page after ${Date.now() - started} ms: cli camera ${JSON.stringify(v)}; cli microphone ${JSON.stringify(a)}`);
    t.diagnostic(`page publish: ${JSON.stringify(lastStats && lastStats.publish)}`);
    assert.ok(ok, cli.running()
      ? `page did not get media from the cli within ${MEDIA_TIMEOUT_MS} ms`
      : `studyhall-client exited (${JSON.stringify(cli.child.exitCode ?? cli.child.signalCode)}) before the page got its media`);
    assert.deepEqual(lastStats.docMismatches, [], 'page saw behaviour that differs from docs/protocol.md');
    assert.equal(v.codec, 'video/VP8');
    assert.ok(v.frameWidth > 0 && v.frameHeight > 0, 'decoded video has a size');

    // The page shows the CLI's camera in a small tile (docs/protocol.md, `set_view`): the
    // relay sends its small layer (half the width and height) on the same m-line, and
    // Chromium decodes it; a large tile brings the full layer back.
    const full = { width: v.frameWidth, height: v.frameHeight };
    const camera = async (width, height) => {
      const reply = await page.evaluate((t) => window.studyhall.setView(t), [{ identity: 'cli', source: 'camera', width, height }]);
      assert.equal(reply.type, 'ack', `set_view: ${JSON.stringify(reply)}`);
    };
    const frameOf = async (want, what) => {
      for (let i = 0; i < 40; i++) {
        lastStats = await page.evaluate(() => window.studyhall.stats());
        const now = cliInbound(lastStats, 'video');
        if (now && now.frameWidth === want.width && now.frameHeight === want.height) return now;
        await sleep(250);
      }
      assert.fail(`${what}: the page's cli camera stayed ${JSON.stringify(cliInbound(lastStats, 'video'))}, not ${JSON.stringify(want)}`);
    };
    await camera(320, 180);
    const small = await frameOf({ width: full.width / 2, height: full.height / 2 }, 'a small tile');
    await camera(1280, 720);
    const back = await frameOf(full, 'a large tile');
    assert.ok(back.framesDecoded > small.framesDecoded, 'the page kept decoding across the switches');
    t.diagnostic(`page's cli camera: ${full.width}×${full.height}, small ${small.frameWidth}×${small.frameHeight}, back ${back.frameWidth}×${back.frameHeight}`);
    // The relay heard both microphones' levels (RFC 6464): Chromium's, sent by default,
    // and the CLI's, and told the page who speaks (docs/protocol.md, `speakers`).
    for (let i = 0; i < 40 && !(lastStats.speakingSeen.includes('cli') && lastStats.speakingSeen.includes('browser')); i++) {
      await sleep(250);
      lastStats = await page.evaluate(() => window.studyhall.stats());
    }
    t.diagnostic(`speaking seen ${JSON.stringify(lastStats.speakingSeen)}, active seen ${JSON.stringify(lastStats.activeSeen)}`);
    assert.ok(lastStats.speakingSeen.includes('cli'), `the relay never said the cli speaks: ${JSON.stringify(lastStats.speakingSeen)}`);
    assert.ok(lastStats.speakingSeen.includes('browser'), `the relay never said the browser speaks: ${JSON.stringify(lastStats.speakingSeen)}`);
    assert.ok(lastStats.activeSeen.length > 0, 'the relay named an active speaker');

    // (b) the CLI, once it has left, reports the browser's camera and microphone decoded.
    const remaining = CLI_DURATION_S * 1000 + 10_000 - (Date.now() - started);
    const exit = await withTimeout(cli.exited, Math.max(remaining, 1000));
    assert.ok(exit, `studyhall-client did not exit within ${CLI_DURATION_S + 10} s`);
    assert.equal(exit.code, 0, `studyhall-client exited with ${JSON.stringify(exit)}`);
    const cliStats = JSON.parse(await readFile(statsFile, 'utf8'));
    const cam = cliStats.received && cliStats.received['browser:camera'];
    const mic = cliStats.received && cliStats.received['browser:microphone'];
    t.diagnostic(`cli received browser:camera ${JSON.stringify(cam)}`);
    t.diagnostic(`cli received browser:microphone ${JSON.stringify(mic)}`);
    assert.ok(cam, `cli stats have no browser:camera: ${JSON.stringify(Object.keys(cliStats.received || {}))}`);
    assert.ok(cam.frames_decoded >= MIN_FRAMES, `cli decoded only ${cam.frames_decoded} browser camera frames`);
    // Chromium published its camera in two layers; the CLI, with no view, got the full one
    // and the relay told the page its small layer is received by nobody.
    assert.deepEqual(cam.frame_size, [640, 480], 'the cli got the full layer of the page\'s camera');
    const pubTracks = lastStats.publish.tracks;
    const fullMid = pubTracks.find((x) => x.source === 'camera' && !x.layer).mid;
    const smallMid = pubTracks.find((x) => x.source === 'camera' && x.layer === 'small').mid;
    const smallOut = lastStats.publish.outbound.find((s) => s.mid === smallMid);
    t.diagnostic(`page's layers told ${JSON.stringify(lastStats.layersTold)}; small layer sent ${JSON.stringify(smallOut)}`);
    assert.equal(lastStats.layersTold[smallMid], false, 'the relay told the page nobody receives its small layer');
    assert.notEqual(lastStats.layersTold[fullMid], false, 'the relay did not tell the page its full layer is unused');
    assert.ok(smallOut && smallOut.frameWidth === 320, `Chromium encoded the small layer at 320 wide: ${JSON.stringify(smallOut)}`);
    assert.ok(mic, 'cli stats have no browser:microphone');
    assert.ok(mic.frames_decoded > 0, `cli decoded ${mic.frames_decoded} browser microphone frames`);

    // Diagnostics only: how the page and the relay handled the CLI's departure (a
    // subscribe_offer that stops every m-line).
    await sleep(1000);
    lastStats = await page.evaluate(() => window.studyhall.stats());
    t.diagnostic(`page after the cli left: participants ${JSON.stringify(lastStats.participants)}, subTracks ${JSON.stringify(lastStats.subTracks)}, errors ${JSON.stringify(lastStats.errors)}`);
    failed = false;
  } finally {
    if (failed || process.env.INTEROP_VERBOSE) {
      const lines = [];
      if (page) {
        try {
          lastStats = await page.evaluate(() => window.studyhall && window.studyhall.stats());
          const log = await page.evaluate(() => window.studyhall && window.studyhall.log());
          lines.push('--- page stats ---', JSON.stringify(lastStats, null, 1));
          lines.push('--- page log ---', ...(log || []).map((e) => JSON.stringify(e)));
          const sdp = await page.evaluate(() => window.studyhall && window.studyhall.sdp());
          lines.push('--- page SDP ---', JSON.stringify(sdp, null, 1));
        } catch (e) {
          lines.push(`(page state unavailable: ${e.message})`);
        }
      }
      lines.push('--- page console ---', ...consoleLines.slice(-50));
      if (cli) lines.push('--- studyhall-client output (tail) ---', tail(stripAnsi(cli.output())));
      if (relay) lines.push('--- relay log (tail) ---', tail(stripAnsi(relay.output()), 60));
      console.error(lines.join('\n'));
    }
    if (context) await context.close().catch(() => {});
    if (cli) await cli.kill();
    if (relay) await relay.kill();
    if (server) {
      server.closeAllConnections?.();
      await new Promise((r) => server.close(r));
    }
    await rm(tmp, { recursive: true, force: true }).catch(() => {});
  }
});
