// End-to-end update: the installed version N-1 (a .deb) finds version N on a
// local update server, refuses a tampered package, then installs the real
// one and restarts as N. Run by scripts/update-e2e.sh, which builds both
// packages, serves them, installs N-1 and prepares the store.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { Session, sleep, startDriver } from './webdriver.mjs';

const APP = process.env.SHELFKEEPER_APP;
const OLD = process.env.UPDATE_OLD;
const NEW = process.env.UPDATE_NEW;
const SRV = process.env.UPDATE_SRV;
const STORE = process.env.UPDATE_STORE;
const HOME = process.env.UPDATE_HOME;
// The migration versions of N-1 (the last release) and of N (this tree).
const MIGRATIONS_OLD = process.env.UPDATE_MIGRATIONS_OLD?.split(',').map(Number);
const MIGRATIONS_NEW = process.env.UPDATE_MIGRATIONS_NEW?.split(',').map(Number);
const SHOTS = process.env.SCREENSHOTS ?? 'target/e2e-screenshots';
let driver;
let BASE;
let session;

before(async () => {
  for (const [k, v] of Object.entries({ APP, OLD, NEW, SRV, STORE, HOME, MIGRATIONS_OLD, MIGRATIONS_NEW })) assert.ok(v, `${k} must be set (run scripts/update-e2e.sh)`);
  mkdirSync(SHOTS, { recursive: true });
  driver = await startDriver();
  BASE = driver.base;
});

after(async () => {
  await session?.quit().catch(() => {});
  await driver?.stop();
});

function installedVersion() {
  const r = spawnSync('dpkg-query', ['-W', '-f=${Version}', 'shelfkeeper'], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : null;
}

/** Runs SQL on the store file (read-only) with Python's sqlite3. */
function sql(query, file = STORE) {
  const py = `import sqlite3, json, sys
c = sqlite3.connect('file:' + sys.argv[1] + '?mode=ro', uri=True)
print(json.dumps(c.execute(sys.argv[2]).fetchall()))`;
  const r = spawnSync('python3', ['-c', py, file, query], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(r.stderr.trim());
  return JSON.parse(r.stdout);
}

/** The migrations applied to a store file, by version. */
function migrations(file = STORE) {
  return sql('SELECT version FROM _sqlx_migrations WHERE success ORDER BY version', file).map((r) => r[0]);
}

async function waitUntil(what, check, timeout) {
  const deadline = Date.now() + timeout;
  for (;;) {
    let last;
    try {
      last = await check();
      if (last) return last;
    } catch (e) {
      last = e.message;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what} (last: ${JSON.stringify(last)})`);
    await sleep(250);
  }
}

/** The programs this test started (they run with its HOME). */
function ourPrograms() {
  const pids = [];
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      const env = readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0');
      if (env.includes(`HOME=${HOME}`) && readlinkSync(`/proc/${pid}/exe`).startsWith(APP)) pids.push(Number(pid));
    } catch {
      /* gone, or not ours to read */
    }
  }
  return pids;
}

function serve(manifest) {
  copyFileSync(join(SRV, manifest), join(SRV, 'latest.json'));
}

const timings = {};

test('version N-1 finds N at start, refuses a tampered package and keeps working', async () => {
  assert.equal(installedVersion(), OLD);
  // The store is as the released program's own CLI made it.
  assert.deepEqual(migrations(), MIGRATIONS_OLD);
  serve('latest-tampered.json');
  session = await Session.start(BASE, APP);
  // The check at start (on by default) finds N and says so on any screen.
  const banner = await session.waitFor('[data-testid=update-banner]', (t) => t.includes(NEW), 30_000);
  assert.ok(banner);
  await session.screenshot(join(SHOTS, '20-update-banner.png'));
  await session.click('[data-testid=update-banner-open]');
  await session.waitFor('[data-testid=update-current]', (t) => t.includes(OLD));

  // On demand, through Settings → Updates.
  let t0 = Date.now();
  await session.click('[data-testid=update-check]');
  await session.waitFor('[data-testid=update-available]', (t) => t.includes(NEW), 30_000);
  timings.check = Date.now() - t0;
  const notes = await session.waitFor('[data-testid=update-notes]');
  assert.match(await session.text(notes), /with its migrations/);
  await session.screenshot(join(SHOTS, '21-update-available.png'));

  await session.click('[data-testid=update-install]');
  const err = await session.waitFor('[data-testid=update-error]', (t) => t.length > 0, 60_000);
  const message = await session.text(err);
  assert.match(message, /signature/i, message);
  assert.match(message, /update_signature_invalid/, message);
  assert.match(message, /keeps working/, message);
  await session.screenshot(join(SHOTS, '22-update-tampered-refused.png'));
  assert.equal(installedVersion(), OLD, 'the tampered package was not installed');
  assert.ok(!existsSync(join(STORE, '..', 'backups')), 'nothing was backed up for a refused update');

  // The program still works: search finds the titles.
  await session.click('[data-testid="nav-catalogue"]');
  await session.type('[data-testid="catalogue-search"]', 'dune');
  await session.waitFor('[data-testid="result-row"]', (t) => t.includes('Dune'));
  await session.click('[data-testid="nav-settings"]');
});

test('then N installs, restarts, migrates and keeps the data', async () => {
  serve('latest-good.json');
  let t0 = Date.now();
  await session.click('[data-testid=update-check]');
  await session.waitFor('[data-testid=update-available]', (t) => t.includes(NEW), 30_000);
  timings.recheck = Date.now() - t0;
  t0 = Date.now();
  await session.click('[data-testid=update-install]');
  // The progress shows while it downloads, verifies, backs up and installs.
  await session.waitFor('[data-testid=update-progress]', () => true, 10_000).catch(() => {});
  await session.screenshot(join(SHOTS, '23-update-progress.png')).catch(() => {});
  await waitUntil('dpkg shows N', () => installedVersion() === NEW, 180_000);
  timings.installed = Date.now() - t0;
  // N starts by itself (Tauri restarts the app) and runs its migrations when it opens the store.
  const migrated = await waitUntil('N ran its migrations', () => JSON.stringify(migrations()) === JSON.stringify(MIGRATIONS_NEW), 60_000);
  assert.ok(migrated);
  timings.restarted = Date.now() - t0;
  await session.quit().catch(() => {});
  session = null;

  // The data is still there.
  const titles = sql('SELECT title FROM titles ORDER BY title').map((r) => r[0]);
  assert.deepEqual(titles, ['Dune', 'Emma']);
  // The backup taken before installing is there, whole, and holds the data.
  const backups = readdirSync(join(STORE, '..', 'backups')).filter((f) => f.endsWith('.sqlite3'));
  assert.equal(backups.length, 1, `one pre-update backup: ${backups}`);
  const backup = join(STORE, '..', 'backups', backups[0]);
  assert.deepEqual(sql('PRAGMA integrity_check', backup), [['ok']]);
  assert.deepEqual(sql('SELECT count(*) FROM titles', backup), [[2]]);
  assert.deepEqual(migrations(backup), MIGRATIONS_OLD, 'the backup is of N-1');
  // The running program is N.
  const running = ourPrograms();
  assert.ok(running.length >= 1, 'N is running after the restart');
  console.log(`# update timings (ms): ${JSON.stringify(timings)}`);
  for (const pid of running) process.kill(pid, 'SIGTERM');
  await waitUntil('N exited', () => ourPrograms().length === 0, 15_000);
});

