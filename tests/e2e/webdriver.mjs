// A small W3C WebDriver client: enough to drive the desktop app through
// tauri-driver (which forwards to WebKitWebDriver) without extra packages.
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';

const ELEMENT = 'element-6066-11e4-a52e-4f735466cecf';
export const ENTER = '\uE007';

export class Session {
  constructor(base, id) {
    this.base = base;
    this.id = id;
  }

  static async start(base, application) {
    const deadline = Date.now() + 30_000;
    for (;;) {
      try {
        const res = await call(base, 'POST', '/session', {
          capabilities: { alwaysMatch: { 'tauri:options': { application } } },
        });
        return new Session(base, res.sessionId);
      } catch (e) {
        if (Date.now() > deadline) throw e;
        await sleep(500);
      }
    }
  }

  cmd(method, path, body) {
    return call(this.base, method, `/session/${this.id}${path}`, body).then((r) => r.value);
  }

  async quit() {
    await this.cmd('DELETE', '');
  }

  async findAll(css) {
    const els = await this.cmd('POST', '/elements', { using: 'css selector', value: css });
    return els.map((e) => e[ELEMENT]);
  }

  /** Waits until `css` matches an element (whose text satisfies `test`). */
  async waitFor(css, test = () => true, timeout = 10_000) {
    const deadline = Date.now() + timeout;
    let last = '';
    for (;;) {
      for (const el of await this.findAll(css).catch(() => [])) {
        const text = await this.text(el).catch(() => '');
        last = text;
        if (test(text)) return el;
      }
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${css} (last text: ${JSON.stringify(last)})`);
      await sleep(150);
    }
  }

  /** The element's innerText (WebKitWebDriver's own text endpoint drops
   * the text of some ellipsized table cells). */
  text(el) {
    return this.cmd('POST', '/execute/sync', { script: 'return arguments[0].innerText;', args: [{ [ELEMENT]: el }] });
  }

  async click(css) {
    const el = await this.waitFor(css);
    // Centre it first: WebDriver only scrolls it just into view, where a
    // notice floating at the bottom of the window can cover it.
    await this.cmd('POST', '/execute/sync', { script: "arguments[0].scrollIntoView({ block: 'center' });", args: [{ [ELEMENT]: el }] });
    await this.cmd('POST', `/element/${el}/click`, {});
    return el;
  }

  /** Types into the input matched by `css` (inside a wrapper, its input). */
  async type(css, text, { clear = true } = {}) {
    const el = await this.waitFor(css);
    let input = el;
    const tag = await this.cmd('GET', `/element/${el}/name`);
    if (!['input', 'textarea', 'select'].includes(String(tag).toLowerCase())) {
      const inner = await this.cmd('POST', `/element/${el}/elements`, { using: 'css selector', value: 'input, textarea' });
      if (inner.length) input = inner[0][ELEMENT];
    }
    if (clear) await this.cmd('POST', `/element/${input}/clear`, {});
    await this.cmd('POST', `/element/${input}/value`, { text });
  }

  /**
   * Scrolls the first element matching `css` into the window and returns
   * once it has stayed there for two looks in a row (a page that re-renders
   * may move it away again: then it scrolls again).
   */
  async scrollTo(css, timeout = 10_000) {
    const inView = () =>
      this.cmd('POST', '/execute/sync', {
        script:
          'const e = document.querySelector(arguments[0]); if (!e) return false; const r = e.getBoundingClientRect(); return r.top >= 0 && r.top < window.innerHeight;',
        args: [css],
      });
    const deadline = Date.now() + timeout;
    let settled = 0;
    while (settled < 2) {
      if (Date.now() > deadline) throw new Error(`${css} did not stay in view within ${timeout} ms`);
      if (await inView()) {
        settled++;
      } else {
        settled = 0;
        await this.cmd('POST', '/execute/sync', {
          script: "document.querySelector(arguments[0])?.scrollIntoView({ block: 'center' })",
          args: [css],
        });
      }
      await sleep(100);
    }
  }

  async screenshot(file) {
    const { writeFile } = await import('node:fs/promises');
    const b64 = await this.cmd('GET', '/screenshot');
    await writeFile(file, Buffer.from(b64, 'base64'));
  }
}

async function call(base, method, path, body) {
  const res = await fetch(base + path, {
    method,
    headers: { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(60_000),
  });
  const json = await res.json().catch(() => ({}));
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(json.value ?? json)}`);
  return json.value && json.value.sessionId ? json.value : json;
}

export function sleep(ms) {
  return new Promise((r) => setTimeout(r, ms));
}

/** A TCP port nobody listens on, chosen by the OS. */
export async function freePort() {
  const srv = createServer();
  await new Promise((resolve, reject) => srv.once('error', reject).listen(0, '127.0.0.1', resolve));
  const { port } = srv.address();
  await new Promise((resolve) => srv.close(resolve));
  return port;
}

/**
 * Starts tauri-driver (and through it WebKitWebDriver) on ports the OS
 * picks, and resolves once it answers, so tests never share or guess a
 * port. `env` is the environment the program it starts inherits.
 */
export async function startDriver({ env = process.env, stdio = ['ignore', 'inherit', 'inherit'] } = {}) {
  const port = await freePort();
  const nativePort = await freePort();
  const child = spawn('tauri-driver', ['--port', String(port), '--native-port', String(nativePort)], { env, stdio });
  const base = `http://127.0.0.1:${port}`;
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill();
      await new Promise((r) => child.once('exit', r));
    }
  };
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`tauri-driver exited with ${child.exitCode} before answering`);
    if (await fetch(`${base}/status`, { signal: AbortSignal.timeout(2_000) }).then((r) => r.ok, () => false)) return { child, base, stop };
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`tauri-driver did not answer on ${base} within 30 s`);
    }
    await sleep(50);
  }
}
