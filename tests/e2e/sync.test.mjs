// End-to-end sync: one real server (the shelfkeeper-server binary on a
// SQLite file) and two desktop instances, each with its own HOME and store,
// driven one after the other through tauri-driver under Xvfb. The sign-in
// goes to the gnome-keyring that scripts/e2e.sh starts in the test's D-Bus
// session. A title added on the first desktop appears on the second; a
// change synced by another desk while the second desktop runs shows there
// without pressing "Sync now" (the server's long poll); a copy lent at two
// desks while apart is a conflict the desktop shows and resolves, and the
// resolution reaches the other desk.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Session, freePort, sleep, startDriver } from './webdriver.mjs';

const APP = process.env.SHELFKEEPER_APP;
const CLI = process.env.SHELFKEEPER_CLI;
const SERVER = process.env.SHELFKEEPER_SERVER;
const SHOTS = process.env.SCREENSHOTS ?? 'target/e2e-screenshots';
const EMAIL = 'collector@example.org';
const PASSWORD = 'correct horse battery';
const root = mkdtempSync(join(tmpdir(), 'sk-sync-e2e-'));
let server;
let serverUrl;

const shot = (s, name) => s.screenshot(`${SHOTS}/${name}.png`);
const has = (needle) => (text) => text.includes(needle);

function run(cmd, args, env, input) {
  const r = spawnSync(cmd, args, { env: { ...process.env, ...env }, input, encoding: 'utf8' });
  assert.equal(r.status, 0, `${cmd} ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

before(async () => {
  assert.ok(APP && CLI && SERVER, 'SHELFKEEPER_APP, SHELFKEEPER_CLI and SHELFKEEPER_SERVER name the built programs');
  mkdirSync(SHOTS, { recursive: true });
  const port = await freePort();
  const env = {
    SHELFKEEPER_SERVER_DATABASE_URL: `sqlite://${join(root, 'server.sqlite3')}`,
    SHELFKEEPER_SERVER_DATA_DIR: join(root, 'server-data'),
    SHELFKEEPER_SERVER_LISTEN: `127.0.0.1:${port}`,
  };
  // The operator's first account and library, without a mail server.
  const created = run(SERVER, ['account', 'create', EMAIL, '--library', 'Home library'], env, `${PASSWORD}\n`);
  assert.match(created, /library [0-9a-f-]+ 'Home library' created/);
  server = spawn(SERVER, [], { env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'inherit'] });
  serverUrl = `http://127.0.0.1:${port}`;
  for (let i = 0; ; i++) {
    const up = await fetch(`${serverUrl}/healthz`).then((r) => r.ok).catch(() => false);
    if (up) break;
    if (i > 100) throw new Error('the server did not start');
    await sleep(100);
  }
});

after(() => {
  server?.kill();
  spawnSync('pkill', ['-KILL', '-f', APP]);
});

/** A HOME with a collection store the desktop opens on start. */
function desktopHome(name) {
  const home = join(root, name);
  const store = join(home, '.local/share/org.shelfkeeper.desktop/shelfkeeper.sqlite3');
  mkdirSync(join(home, '.local/share/org.shelfkeeper.desktop'), { recursive: true });
  mkdirSync(join(home, '.config/org.shelfkeeper.desktop'), { recursive: true });
  run(CLI, ['--store', store, 'init']);
  writeFileSync(
    join(home, '.config/org.shelfkeeper.desktop/settings.json'),
    JSON.stringify({ store_path: store, check_updates_automatically: false }),
  );
  return { home, store };
}

async function noDesktopRunning() {
  for (let i = 0; i < 200 && spawnSync('pgrep', ['-f', APP]).status === 0; i++) await sleep(50);
  if (spawnSync('pgrep', ['-f', APP]).status === 0) {
    spawnSync('pkill', ['-KILL', '-f', APP]);
    await sleep(500);
  }
}

/** Runs `body` with the desktop program started in `home`. */
async function withDesktop(home, body) {
  // The program inherits tauri-driver's environment: its HOME is the desk's.
  const env = { ...process.env, HOME: home, XDG_CONFIG_HOME: join(home, '.config'), XDG_DATA_HOME: join(home, '.local/share') };
  // The program is single-instance on the session bus: a desktop still
  // quitting (the previous desk, or the previous test file's) would take
  // the new launch for a second one, and that launch would panic.
  await noDesktopRunning();
  const driver = await startDriver({ env });
  let s;
  try {
    s = await Session.start(driver.base, APP);
    await body(s);
  } catch (e) {
    await s?.screenshot(`${SHOTS}/failure-sync.png`).catch(() => {});
    throw e;
  } finally {
    await s?.quit().catch(() => {});
    await driver.stop();
    spawnSync('pkill', ['-TERM', '-f', APP]);
    // The next desk starts on the same store: wait until this one is gone.
    for (let i = 0; i < 100 && spawnSync('pgrep', ['-f', APP]).status === 0; i++) await sleep(50);
  }
}

async function connect(s, device) {
  await s.click('[data-testid="nav-settings"]');
  await s.waitFor('[data-testid="sync-connect-form"]');
  await s.type('[data-testid="sync-server"]', serverUrl);
  await s.type('[data-testid="sync-email"]', EMAIL);
  await s.type('[data-testid="sync-password"]', PASSWORD);
  await s.type('[data-testid="sync-device"]', device);
  await s.click('[data-testid="sync-connect"]');
  for (let i = 0; i < 200; i++) {
    if ((await s.findAll('[data-testid="sync-connection"]')).length) break;
    const err = await s.findAll('[data-testid="sync-error"]');
    if (err.length) throw new Error(`connecting failed: ${await s.text(err[0])}`);
    await sleep(100);
  }
  await s.waitFor('[data-testid="sync-connection"]', has('Home library'), 10_000);
}

async function syncNow(s) {
  await s.click('[data-testid="sync-now"]');
  await s.waitFor('[data-testid="sync-result"]', has('Last sync'), 30_000);
  await s.waitFor('[data-testid="sync-pending"]', has('0 changes'), 30_000);
}

test('two desktops sync titles, live changes and a resolved conflict', { timeout: 360_000 }, async () => {
  const laptop = desktopHome('laptop');
  const desktop = desktopHome('desktop');

  await withDesktop(laptop.home, async (s) => {
    await s.waitFor('[data-testid="catalogue-empty"]', () => true, 20_000);
    await s.click('[data-testid="catalogue-empty-add"]');
    await s.type('[data-testid="title-field-title"]', 'The Dispossessed');
    await s.type('[data-testid="title-field-contributor-name"]', 'Ursula K. Le Guin');
    await s.click('[data-testid="title-save"]');
    await s.waitFor('[data-testid="title-panel"]', has('The Dispossessed'));

    await connect(s, 'Laptop');
    await syncNow(s);
    await s.waitFor('[data-testid="status-sync"]', has('Synced'));
    await shot(s, '18-sync-connected');
  });

  // The sign-in is in the keychain, not in the store or the settings.
  const settings = readFileSync(join(laptop.home, '.config/org.shelfkeeper.desktop/settings.json'), 'utf8');
  assert.ok(!/token|password/i.test(settings), settings);
  const info = run(CLI, ['--store', laptop.store, 'info']);
  assert.match(info, /1 titles/);

  await withDesktop(desktop.home, async (s) => {
    await s.waitFor('[data-testid="catalogue-empty"]', () => true, 20_000);
    await connect(s, 'Front desk');
    await syncNow(s);
    await s.click('[data-testid="nav-catalogue"]');
    await s.type('[data-testid="catalogue-search"]', 'dispossessed');
    await s.waitFor('[data-testid="result-row"]', has('The Dispossessed'), 20_000);
    await s.waitFor('[data-testid="status-sync"]', has('Synced'));
    await shot(s, '19-sync-title-arrived');

    // Meanwhile the laptop (its store, through the command-line tool)
    // adds a title, a copy and two friends and syncs: this desktop shows
    // them within seconds, with no "Sync now" and a 60 s schedule.
    run(CLI, ['--store', laptop.store, 'add-title', '--title', 'The Left Hand of Darkness', '--author', 'Ursula K. Le Guin', '--copy', 'LH1']);
    run(CLI, ['--store', laptop.store, 'add-member', 'F1', 'Fran']);
    run(CLI, ['--store', laptop.store, 'add-member', 'F2', 'Gus']);
    const synced = Date.now();
    run(CLI, ['--store', laptop.store, 'sync', 'now']);
    await s.type('[data-testid="catalogue-search"]', 'left hand');
    await s.waitFor('[data-testid="result-row"]', has('The Left Hand of Darkness'), 15_000);
    console.log(`# a change synced by the laptop showed on the running desktop ${Date.now() - synced} ms after its sync began`);
  });

  // Apart, both desks lend LH1: the laptop to Fran and syncs, this desk
  // (offline: the program is not running) to Gus.
  run(CLI, ['--store', laptop.store, 'checkout', 'F1', 'LH1']);
  run(CLI, ['--store', laptop.store, 'sync', 'now']);
  run(CLI, ['--store', desktop.store, 'checkout', 'F2', 'LH1']);

  await withDesktop(desktop.home, async (s) => {
    // The sync at start brings the laptop's loan: a conflict to look at.
    await s.click('[data-testid="nav-settings"]');
    await s.waitFor('[data-testid="sync-conflict"]', has('LH1 — The Left Hand of Darkness'), 30_000);
    await s.waitFor('[data-testid="sync-conflict"]', has('members F1 and F2'));
    // The list reloads when the start-up sync's status arrives: scroll
    // once that sync has finished.
    await s.waitFor('[data-testid="sync-result"]', has('Last sync'), 30_000);
    await s.scrollTo('[data-testid="sync-conflicts"]');
    await shot(s, '24-sync-conflict');
    await s.click('[data-testid="sync-conflict-resolve"]');
    await s.type('[data-testid="sync-resolve-note"]', 'Gus has it; Fran was lent another copy');
    await shot(s, '25-sync-conflict-resolving');
    await s.click('[data-testid="sync-resolve-confirm"]');
    await s.waitFor('[data-testid="sync-resolved"]', has('Resolved (1)'));
    // The resolution is a local change: it is sent at once.
    await s.waitFor('[data-testid="sync-pending"]', has('0 changes'), 15_000);
    await s.click('[data-testid="sync-resolved"] summary');
    await s.waitFor('[data-testid="sync-resolved"]', has('Gus has it'));
    await s.scrollTo('[data-testid="sync-resolved"]');
    await shot(s, '26-sync-conflict-resolved');
  });

  // The laptop sees the same conflict, resolved, with the note.
  run(CLI, ['--store', laptop.store, 'sync', 'now']);
  const conflicts = run(CLI, ['--store', laptop.store, 'sync', 'conflicts']);
  assert.match(conflicts, /concurrent_events: LH1 — The Left Hand of Darkness \(members F1 and F2\) — acknowledged by owner at .*: Gus has it/);

  // The second desktop's store has it too, read by the command-line tool.
  const found = run(CLI, ['--store', desktop.store, 'find', 'dispossessed']);
  assert.match(found, /The Dispossessed — Ursula K\. Le Guin/);
});
