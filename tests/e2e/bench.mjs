// Desktop benchmark (not a test): launch-to-usable time, keystroke-to-results
// latency and memory of the process tree, on a large store.
//   scripts/e2e.sh --bench STORE   (STORE: a store made by `shelfkeeper generate`
//   with an account admin / "correct horse battery" if it is a library)
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync, readdirSync, mkdirSync, writeFileSync } from 'node:fs';
import { Session, sleep, startDriver } from './webdriver.mjs';

const APP = process.env.SHELFKEEPER_APP;
const STORE = process.argv[2];

// Memory of the app and the WebKit processes it started: resident size, and
// the anonymous (private) part of it. Resident size also counts pages of the
// store file that SQLite has memory-mapped and touched; those are the page
// cache's, shared and reclaimable, and are reported apart.
function treeMemoryMiB(rootName) {
  const sum = { rss: 0, anon: 0, file: 0, shmem: 0, processes: 0 };
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      if (!cmd.includes(rootName) && !cmd.includes('WebKitWebProcess') && !cmd.includes('WebKitNetworkProcess')) continue;
      const status = readFileSync(`/proc/${pid}/status`, 'utf8');
      const kb = (k) => Number(new RegExp(`${k}:\\s+(\\d+)`).exec(status)?.[1] ?? 0);
      sum.rss += kb('VmRSS');
      sum.anon += kb('RssAnon');
      sum.file += kb('RssFile');
      sum.shmem += kb('RssShmem');
      sum.processes++;
    } catch {}
  }
  for (const k of ['rss', 'anon', 'file', 'shmem']) sum[k] = Math.round(sum[k] / 1024);
  return sum;
}

// Starts the program directly (no WebDriver in between) and resolves when it
// logs that a screen matching `screen` (a regex group) has been painted: the launch time as a user sees it.
function launchUntil(screen) {
  return new Promise((resolve, reject) => {
    const t0 = Date.now();
    const child = spawn(APP, [], { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    const timer = setTimeout(() => finish(new Error(`no '${screen} ready' line in 30 s:\n${err}`)), 30_000);
    function finish(e, ms, shown) {
      clearTimeout(timer);
      if (e) {
        child.kill('SIGKILL');
        reject(e);
      } else resolve({ ms, child, screen: shown });
    }
    child.stderr.on('data', (d) => {
      err += d;
      const m = new RegExp(`${screen} ready (\\d+) ms after launch \\(unix ms (\\d+)\\)`).exec(err);
      if (m) finish(null, { fromSpawn: Number(m[3]) - t0, fromMain: Number(m[2]) }, m[1]);
    });
    child.on('exit', (code) => finish(new Error(`exited (${code}) before '${screen} ready':\n${err}`)));
  });
}

async function stop(child) {
  child.removeAllListeners('exit');
  const gone = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await gone;
  while (spawnSync('pgrep', ['-f', 'WebKitWebProcess']).status === 0) await sleep(50);
}

const pct = (a, p) => a.slice().sort((x, y) => x - y)[Math.min(a.length - 1, Math.ceil(a.length * p) - 1)];

async function run() {
  const out = {};
  const cfg = `${process.env.XDG_CONFIG_HOME}/org.shelfkeeper.desktop`;
  mkdirSync(cfg, { recursive: true });
  const useStore = (path) => writeFileSync(`${cfg}/settings.json`, JSON.stringify({ store_path: path }));

  // Empty window: the first-run screen with no store.
  useStore(null);
  {
    const { child } = await launchUntil('(first-run)');
    await sleep(3000);
    out.emptyWindow = treeMemoryMiB('shelfkeeper-desktop');
    await stop(child);
  }

  // Launch to a usable screen on the large store, five times (the first is
  // the cold start after a build; the page cache is warm afterwards). A
  // library store opens on its login screen.
  useStore(STORE);
  const launches = [];
  let screen = '';
  for (let i = 0; i < 5; i++) {
    const r = await launchUntil('(login|catalogue)');
    screen = r.screen;
    launches.push(r.ms.fromSpawn);
    out.launchFromMainMs = r.ms.fromMain;
    await stop(r.child);
    await sleep(500);
  }
  out.launchScreen = screen;
  out.launchMs = { runs: launches, median: pct(launches, 0.5) };

  const driver = await startDriver({ stdio: 'ignore' });
  try {
    const s = await Session.start(driver.base, APP);
    await s.waitFor(screen === 'login' ? '[data-testid="login-username"]' : '[data-testid="result-row"]', () => true, 30_000);
    if (screen === 'login') {
      // Login to the first page of results, timed in the page: argon2
      // verification, the session, the first search and its paint.
      await s.type('[data-testid="login-username"]', 'admin');
      await s.type('[data-testid="login-password"]', 'correct horse battery');
      out.loginToCatalogueMs = await s.cmd('POST', '/execute/async', {
        script: `const done = arguments[0];
          const t = performance.now();
          document.querySelector('[data-testid="login-submit"]').click();
          const check = () => document.querySelector('[data-testid="result-row"]') ? requestAnimationFrame(() => done(performance.now() - t)) : setTimeout(check, 2);
          check();`,
        args: [],
      });
    }

    // Keystroke to results, measured inside the page: set the input's value,
    // fire input, and time until the first row shows the new results.
    const words = ['the', 'war', 'hist', 'love', 'dark', 'sea', 'life', 'new', 'art', 'night'];
    const samples = [];
    for (let i = 0; i < 100; i++) {
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
    await sleep(3000);
    out.largeStore = treeMemoryMiB('shelfkeeper-desktop');
    out.largeOverEmpty = { rss: +(out.largeStore.rss / out.emptyWindow.rss).toFixed(2), anon: +(out.largeStore.anon / out.emptyWindow.anon).toFixed(2) };
    await s.quit();
  } finally {
    await driver.stop();
  }
  console.log(JSON.stringify(out, null, 2));
}

run().catch((e) => {
  console.error(e);
  process.exit(1);
});
