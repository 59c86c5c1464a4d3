// What every end-to-end test of the real app needs: the built binaries, a display (Xvfb),
// a sound server with a null sink, the app's environment, tauri-driver, children that are
// stopped afterwards (with the relay the app hosted), waiting, screenshots.
//
// Needs: Xvfb, tauri-driver, WebKitWebDriver, pulseaudio and pactl, and built binaries:
// $STUDYHALL_APP_BIN, $STUDYHALL_CLIENT_BIN (default: target/debug, found through cargo).

import assert from 'node:assert/strict';
import { spawn, spawnSync, execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, writeFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { WebDriver } from './webdriver.mjs';

const root = resolve(import.meta.dirname, '../..');

let targetDirectory;
/** Cargo's target directory, asked of cargo only when a binary's path is not given. */
function targetDir() {
  targetDirectory ??= JSON.parse(
    execFileSync('cargo', ['metadata', '--format-version', '1', '--no-deps'], { cwd: root }).toString(),
  ).target_directory;
  return targetDirectory;
}
export const appBin = process.env.STUDYHALL_APP_BIN ?? join(targetDir(), 'debug/studyhall');
export const clientBin = process.env.STUDYHALL_CLIENT_BIN ?? join(targetDir(), 'debug/studyhall-client');
const shots = process.env.STUDYHALL_SCREENSHOTS ? resolve(process.env.STUDYHALL_SCREENSHOTS) : null;

const children = [];
/** Starts a process whose output is kept (`child.output`) and which is stopped after the test. */
export function start(cmd, args, opts = {}) {
  const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], ...opts });
  child.output = '';
  child.stdout.on('data', (d) => (child.output += d));
  child.stderr.on('data', (d) => (child.output += d));
  children.push(child);
  return child;
}

/** A child's exit code, once it has exited. */
export function exited(child) {
  return new Promise((res) => (child.exitCode !== null ? res(child.exitCode) : child.on('exit', res)));
}

/** A headless studyhall-client (`studyhall-client ARGS`), with no display. */
export function client(args) {
  return start(clientBin, args, { env: { ...process.env, DISPLAY: '' } });
}

export function freePort() {
  return new Promise((res, rej) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => res(port));
    });
    s.on('error', rej);
  });
}

export async function until(what, fn, timeout = 20000) {
  const deadline = Date.now() + timeout;
  for (;;) {
    const v = await fn().catch(() => null);
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(150);
  }
}

/** A screenshot of the app's window, kept as $STUDYHALL_SCREENSHOTS/`name` when that is set. */
export async function shot(driver, name) {
  const png = await driver.screenshot();
  assert.ok(png.length > 1000, 'a screenshot was taken');
  if (shots) {
    mkdirSync(shots, { recursive: true });
    writeFileSync(join(shots, name), png);
  }
}

/** Sets a <select>'s value the way a user choosing an option would (React sees it). */
export const SELECT = `const [sel, value] = arguments;
  const el = document.querySelector(sel);
  if (!el) return false;
  const setter = Object.getOwnPropertyDescriptor(HTMLSelectElement.prototype, 'value').set;
  setter.call(el, value);
  el.dispatchEvent(new Event('change', { bubbles: true }));
  return el.value === value;`;

/**
 * A desktop for the app: a work directory, a display, a sound server with a null sink for
 * the app to play into, and the app's environment (its data under `work/app-data`,
 * hosting on loopback). Everything started, and the relay the app hosted, is stopped
 * after the test, and the work directory removed.
 */
export async function desktop(t) {
  for (const [what, path] of [['app', appBin], ['client', clientBin]]) {
    assert.ok(existsSync(path), `the ${what} binary is built: ${path}`);
  }
  const work = mkdtempSync(join(tmpdir(), 'studyhall-e2e-'));
  const appData = join(work, 'app-data');
  t.after(async () => {
    // The app goes with its session, as a user closing it would stop it.
    for (const d of drivers) await d.quit().catch(() => {});
    for (const c of children.reverse()) {
      if (c.exitCode === null) c.kill('SIGTERM');
    }
    // The app's hosted relay is its child; when the driver kills the app it is left
    // running (orphaned), so it is stopped here by its data directory.
    spawnSync('pkill', ['-TERM', '-f', appData]);
    rmSync(work, { recursive: true, force: true });
  });

  const display = `:${90 + Math.floor(Math.random() * 400)}`;
  start('Xvfb', [display, '-screen', '0', '1280x800x24', '-nolisten', 'tcp', '-noreset']);
  await until('Xvfb', async () => existsSync(`/tmp/.X11-unix/X${display.slice(1)}`));
  const pulseRun = join(work, 'pulse');
  mkdirSync(pulseRun, { recursive: true });
  const pulseSocket = join(pulseRun, 'native');
  start('pulseaudio', [
    '-n', '--daemonize=no', '--exit-idle-time=-1', '--use-pid-file=no',
    '-L', 'module-null-sink sink_name=studyhall_e2e',
    // Last, so the sink exists once the socket does.
    '-L', `module-native-protocol-unix auth-anonymous=1 socket=${pulseSocket}`,
  ], { env: { ...process.env, HOME: work, PULSE_RUNTIME_PATH: pulseRun, XDG_RUNTIME_DIR: pulseRun, DISPLAY: '' } });
  // The socket file appears before the server answers: wait for a real handshake.
  await until('pulseaudio', async () => existsSync(pulseSocket)
    && spawnSync('pactl', ['-s', pulseSocket, 'info'], { stdio: 'ignore', env: { ...process.env, DISPLAY: '' } }).status === 0, 10000);

  const env = {
    ...process.env,
    DISPLAY: display,
    PULSE_SERVER: `unix:${pulseSocket}`,
    STUDYHALL_APP_DATA: appData,
    // Host on loopback: the test machine's LAN is not ours to use.
    STUDYHALL_HOST_IP: '127.0.0.1',
    WEBKIT_DISABLE_COMPOSITING_MODE: '1',
    RUST_LOG: process.env.RUST_LOG ?? 'studyhall_app=info,studyhall_client=info,warn',
  };
  for (const k of Object.keys(env)) if (k.startsWith('STUDYHALL_') && !['STUDYHALL_APP_DATA', 'STUDYHALL_HOST_IP'].includes(k)) delete env[k];
  return { work, appData, env };
}

const drivers = [];
/**
 * tauri-driver (the app inherits its environment, `env`), and a WebDriver client of it
 * with no session yet. The driver's output, which holds the app's, is printed when the
 * test fails.
 */
export async function tauriDriver(t, env) {
  const port = await freePort();
  const nativePort = await freePort();
  const proc = start('tauri-driver', ['--port', String(port), '--native-port', String(nativePort)], { env });
  t.after(() => {
    if (process.exitCode || t.signal?.aborted) console.log('tauri-driver / app output:\n' + proc.output.slice(-8000));
  });
  await until('tauri-driver', async () => (await fetch(`http://127.0.0.1:${port}/status`)).ok);
  const driver = new WebDriver(`http://127.0.0.1:${port}`);
  drivers.push(driver);
  return { driver, proc };
}

/** The processes below `pid` (children, theirs, …), from /proc. */
export function descendants(pid) {
  const parentOf = new Map();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      // "pid (comm) state ppid …": comm may hold spaces and parentheses.
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      parentOf.set(Number(name), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
    } catch {
      // Gone meanwhile.
    }
  }
  const below = [];
  let level = [pid];
  while (level.length) {
    level = [...parentOf].filter(([, ppid]) => level.includes(ppid)).map(([p]) => p);
    below.push(...level);
  }
  return below;
}

/** The command line of process `pid` (its arguments), or null once it is gone. */
export function commandLine(pid) {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').slice(0, -1);
  } catch {
    return null;
  }
}

/** Whether process `pid` runs (a zombie, dead but not yet reaped by its parent, does not). */
export function alive(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

/** Whether any process's command line matches `pattern` (as `pgrep -f`). */
export function running(pattern) {
  return spawnSync('pgrep', ['-f', pattern], { stdio: 'ignore' }).status === 0;
}
