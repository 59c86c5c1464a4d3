// A small W3C WebDriver client (just what the end-to-end test needs), over fetch.

const ELEMENT = 'element-6066-11e4-a52e-4f735466cecf';

export class WebDriver {
  constructor(base) {
    this.base = base;
    this.session = null;
  }

  async call(method, path, body) {
    const url = this.session ? `${this.base}/session/${this.session}${path}` : `${this.base}${path}`;
    const res = await fetch(url, {
      method,
      headers: { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(90000),
    });
    const json = await res.json().catch(() => ({}));
    if (!res.ok || (json.value && json.value.error)) {
      const v = json.value ?? {};
      throw new Error(`WebDriver ${method} ${path}: ${v.error ?? res.status} ${v.message ?? ''}`);
    }
    return json.value;
  }

  async start(capabilities) {
    const value = await this.call('POST', '/session', { capabilities: { alwaysMatch: capabilities } });
    this.session = value.sessionId;
    return value;
  }

  async quit() {
    if (!this.session) return;
    try {
      await this.call('DELETE', '');
    } finally {
      this.session = null;
    }
  }

  /** Runs `script` (a function body) in the page with `args`; returns its result. */
  exec(script, ...args) {
    return this.call('POST', '/execute/sync', { script, args });
  }

  /** Like exec, for a body that returns a promise. */
  execAsync(script, ...args) {
    const body = `const done = arguments[arguments.length - 1];
      Promise.resolve((async () => { ${script} })(...Array.from(arguments).slice(0, -1)))
        .then((v) => done({ ok: v }), (e) => done({ err: String(e && e.stack || e) }));`;
    return this.call('POST', '/execute/async', { script: body, args }).then((r) => {
      if (r && r.err) throw new Error(r.err);
      return r && r.ok;
    });
  }

  async find(css) {
    const value = await this.call('POST', '/element', { using: 'css selector', value: css });
    return value[ELEMENT];
  }

  async click(css) {
    const id = await this.find(css);
    await this.call('POST', `/element/${id}/click`, {});
  }

  async type(css, text, { clear = true } = {}) {
    const id = await this.find(css);
    if (clear) await this.call('POST', `/element/${id}/clear`, {});
    await this.call('POST', `/element/${id}/value`, { text });
  }

  async text(css) {
    const id = await this.find(css);
    return this.call('GET', `/element/${id}/text`);
  }

  /** A PNG screenshot of the window, as a Buffer. */
  async screenshot() {
    return Buffer.from(await this.call('GET', '/screenshot'), 'base64');
  }

  /** Polls `predicate` (page-side function body returning truthy) until it holds. */
  async waitFor(what, script, { timeout = 20000, interval = 200, args = [] } = {}) {
    const deadline = Date.now() + timeout;
    let last;
    for (;;) {
      try {
        last = await this.exec(script, ...args);
        if (last) return last;
      } catch (e) {
        last = e.message;
      }
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what} (last: ${JSON.stringify(last)})`);
      await new Promise((r) => setTimeout(r, interval));
    }
  }
}
