// Test servers: the built UI (dist/) over HTTP, and a minimal WebSocket server standing in
// for the app's local video endpoint (server-to-client binary messages only).
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import http from 'node:http';
import path from 'node:path';

const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  // pdf.js's worker (a module: a browser runs it only when served as JavaScript).
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
};

function listen(server) {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve(server.address().port));
  });
}

/**
 * Serves `root` (falls back to index.html); `/blank` is an empty page on the same origin.
 * `extra` maps more URL paths to files outside `root` (e.g. the test fixtures the fake
 * shell loads). A page asked for with `?csp` comes with the `csp` header given here (as
 * the Tauri shell sends the window's policy with its HTML pages).
 */
export async function startStaticServer(root, extra = {}, { csp = null } = {}) {
  const server = http.createServer(async (req, res) => {
    const url = new URL(req.url, 'http://x');
    if (url.pathname === '/blank') {
      res.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><title>blank</title>');
      return;
    }
    if (Object.hasOwn(extra, url.pathname)) {
      const file = extra[url.pathname];
      res.writeHead(200, { 'content-type': TYPES[path.extname(file)] || 'application/octet-stream' }).end(await readFile(file));
      return;
    }
    const rel = path.normalize(decodeURIComponent(url.pathname)).replace(/^([/\\])+/, '');
    let file = path.join(root, rel || 'index.html');
    if (!file.startsWith(root)) {
      res.writeHead(403).end();
      return;
    }
    let body;
    try {
      body = await readFile(file);
    } catch {
      file = path.join(root, 'index.html');
      body = await readFile(file);
    }
    const headers = { 'content-type': TYPES[path.extname(file)] || 'application/octet-stream' };
    if (csp !== null && url.searchParams.has('csp') && file.endsWith('.html')) headers['content-security-policy'] = csp;
    res.writeHead(200, headers).end(body);
  });
  const port = await listen(server);
  return { url: `http://127.0.0.1:${port}`, close: () => new Promise((r) => server.close(r)) };
}

function frameHeader(opcode, length) {
  if (length < 126) return Buffer.from([0x80 | opcode, length]);
  if (length < 65536) {
    const b = Buffer.alloc(4);
    b[0] = 0x80 | opcode;
    b[1] = 126;
    b.writeUInt16BE(length, 2);
    return b;
  }
  const b = Buffer.alloc(10);
  b[0] = 0x80 | opcode;
  b[1] = 127;
  b.writeBigUInt64BE(BigInt(length), 2);
  return b;
}

/**
 * A WebSocket server; `onClient(client)` gets {send(buffer), close(), closed} for each
 * connection. Client frames are read only to notice a close.
 */
export async function startWebSocketServer(onClient) {
  const sockets = new Set();
  const server = http.createServer((_req, res) => res.writeHead(426).end());
  server.on('upgrade', (req, socket) => {
    const key = req.headers['sec-websocket-key'];
    if (!key) {
      socket.destroy();
      return;
    }
    const accept = createHash('sha1').update(`${key}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest('base64');
    socket.write(
      'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
        `Sec-WebSocket-Accept: ${accept}\r\n\r\n`,
    );
    sockets.add(socket);
    const client = {
      closed: false,
      url: req.url,
      send(buffer) {
        if (client.closed) return;
        socket.write(Buffer.concat([frameHeader(0x2, buffer.length), buffer]));
      },
      close() {
        if (client.closed) return;
        client.closed = true;
        socket.end(Buffer.from([0x88, 0]));
      },
    };
    socket.on('data', (data) => {
      if ((data[0] & 0x0f) === 0x8) client.close();
    });
    socket.on('close', () => {
      client.closed = true;
      sockets.delete(socket);
    });
    socket.on('error', () => {});
    onClient(client);
  });
  const port = await listen(server);
  return {
    url: `ws://127.0.0.1:${port}/video?key=test-secret`,
    close: () =>
      new Promise((r) => {
        for (const s of sockets) s.destroy();
        server.close(r);
      }),
  };
}

/** One video-socket message (docs/app-ipc.md): version, flags, key, timestamp, VP8 frame. */
export function videoMessage(key, keyframe, timestampUs, data) {
  const k = Buffer.from(key, 'utf8');
  const b = Buffer.alloc(4 + k.length + 8 + data.length);
  b[0] = 1;
  b[1] = keyframe ? 1 : 0;
  b.writeUInt16BE(k.length, 2);
  k.copy(b, 4);
  b.writeDoubleBE(timestampUs, 4 + k.length);
  Buffer.from(data).copy(b, 12 + k.length);
  return b;
}
