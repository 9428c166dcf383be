// Desktop benchmark (not a test): launch-to-usable time, keystroke-to-results
// latency and memory of the process tree, on a large store.
//   scripts/e2e.sh --bench STORE   (STORE: a store made by `shelfkeeper generate`
//   with an account admin / "correct horse battery" if it is a library)
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync, readdirSync, mkdirSync, writeFileSync } from 'node:fs';
import { Session, sleep } from './webdriver.mjs';

const APP = process.env.SHELFKEEPER_APP;
const STORE = process.argv[2];
const BASE = 'http://127.0.0.1:4444';

function treeRssMiB(rootName) {
  // Sum RSS of the app and the WebKit processes it started.
  let kb = 0;
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      if (!cmd.includes(rootName) && !cmd.includes('WebKitWebProcess') && !cmd.includes('WebKitNetworkProcess')) continue;
      const m = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
      if (m) kb += Number(m[1]);
    } catch {}
  }
  return kb / 1024;
}

const pct = (a, p) => a.slice().sort((x, y) => x - y)[Math.min(a.length - 1, Math.ceil(a.length * p) - 1)];

async function run() {
  const driver = spawn('tauri-driver', ['--port', '4444'], { stdio: 'ignore' });
  await sleep(1000);
  const out = {};
  try {
    // Empty window: the first-run screen with no store.
    const cfg = `${process.env.XDG_CONFIG_HOME}/org.shelfkeeper.desktop`;
    mkdirSync(cfg, { recursive: true });
    writeFileSync(`${cfg}/settings.json`, JSON.stringify({ store_path: null }));
    let s = await Session.start(BASE, APP);
    await s.waitFor('[data-testid="firstrun-create"]');
    await sleep(2000);
    out.emptyRss = treeRssMiB('shelfkeeper-desktop');
    await s.quit();
    while (spawnSync('pgrep', ['-f', APP]).status === 0) await sleep(100);

    // The large store.
    writeFileSync(`${cfg}/settings.json`, JSON.stringify({ store_path: STORE }));
    const t0 = performance.now();
    s = await Session.start(BASE, APP);
    let login = [];
    for (let i = 0; i < 300; i++) {
      login = await s.findAll('[data-testid="login-username"]');
      if (login.length || (await s.findAll('[data-testid="result-row"]')).length) break;
      await sleep(50);
    }
    if (login.length) {
      out.loginShownMs = performance.now() - t0;
      await s.type('[data-testid="login-username"]', 'admin');
      await s.type('[data-testid="login-password"]', 'correct horse battery');
      await s.click('[data-testid="login-submit"]');
    }
    const t1 = performance.now();
    await s.waitFor('[data-testid="result-row"]', () => true, 30_000);
    out.launchToCatalogueMs = performance.now() - t0;
    out.loginToCatalogueMs = performance.now() - t1;

    // Keystroke to results, measured inside the page: set the input's value,
    // fire input, and time until the first row shows the new results.
    const words = ['the', 'war', 'hist', 'love', 'dark', 'sea', 'life', 'new', 'art', 'night'];
    const samples = [];
    for (let i = 0; i < 40; i++) {
      const w = words[i % words.length] + (i >= words.length ? ' ' + words[(i * 3) % words.length] : '');
      const ms = await s.cmd('POST', '/execute/async', {
        script: `const [text, done] = arguments;
          const input = document.querySelector('[data-testid="catalogue-search"]');
          const count = () => document.querySelector('[data-testid="result-count"]')?.innerText;
          const before = document.querySelector('[data-testid="result-row"]')?.innerText + count();
          const t = performance.now();
          input.value = text; input.dispatchEvent(new Event('input', { bubbles: true }));
          const obs = new MutationObserver(() => {
            const now = document.querySelector('[data-testid="result-row"]')?.innerText + count();
            if (now !== before && !/…$/.test(count() ?? '')) { obs.disconnect(); done(performance.now() - t); }
          });
          obs.observe(document.body, { subtree: true, childList: true, characterData: true });
          setTimeout(() => { obs.disconnect(); done(-1); }, 5000);`,
        args: [w],
      });
      if (ms >= 0) samples.push(ms);
    }
    out.keystrokeToResults = { runs: samples.length, p50: pct(samples, 0.5), p95: pct(samples, 0.95), max: Math.max(...samples) };

    // Scrolling: jump down the virtual list in steps and time each frame.
    out.scroll = await s.cmd('POST', '/execute/async', {
      script: `const done = arguments[0];
        const el = document.querySelector('[data-testid="result-row"]').closest('[role="grid"], [role="listbox"], .viewport, .vlist') || document.querySelector('[data-testid="result-row"]').parentElement.parentElement;
        const frames = []; let last = performance.now(); let n = 0;
        function step() { const now = performance.now(); frames.push(now - last); last = now; el.scrollTop += 400; if (++n < 120) requestAnimationFrame(step); else { frames.sort((a,b)=>a-b); done({ frames: frames.length, p50: frames[frames.length>>1], p95: frames[Math.floor(frames.length*0.95)], rows: document.querySelectorAll('[data-testid="result-row"]').length }); } }
        requestAnimationFrame(step);`,
      args: [],
    });
    await sleep(1000);
    out.largeRss = treeRssMiB('shelfkeeper-desktop');
    await s.quit();
  } finally {
    driver.kill();
  }
  console.log(JSON.stringify(out, null, 2));
}

run().catch((e) => {
  console.error(e);
  process.exit(1);
});
