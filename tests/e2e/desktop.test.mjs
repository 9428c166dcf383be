// End-to-end: the real desktop program, driven through tauri-driver and
// WebKitWebDriver under Xvfb (run by scripts/e2e.sh), on a store in a
// temporary HOME. Screenshots of each main screen go to $SCREENSHOTS.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { deflateSync } from 'node:zlib';
import { Session, ENTER, sleep, startDriver } from './webdriver.mjs';

const APP = process.env.SHELFKEEPER_APP;
const SHOTS = process.env.SCREENSHOTS ?? 'target/e2e-screenshots';
let driver;
let BASE;

async function startTheDriver() {
  driver = await startDriver();
  BASE = driver.base;
}

async function stopDriver() {
  await driver?.stop();
}

// ISBN look-ups go to a local stand-in for the three providers (the app
// reads SHELFKEEPER_METADATA_ROOT; tauri-driver passes the environment on).
// Open Library knows one book, the others know none.
const FIXTURES = new URL('../../crates/metadata/tests/fixtures/', import.meta.url);
const LOOKUP_ISBN = isbn13('978044147812');
let providers;

function isbn13(first12) {
  const sum = [...first12].reduce((acc, d, i) => acc + Number(d) * (i % 2 ? 3 : 1), 0);
  return first12 + ((10 - (sum % 10)) % 10);
}

async function startProviders() {
  providers = createServer((req, res) => {
    const url = new URL(req.url, 'http://x');
    const send = (status, type, body) => {
      res.writeHead(status, { 'content-type': type });
      res.end(body);
    };
    if (url.pathname === '/openlibrary/api/books') {
      if (!url.searchParams.get('bibkeys')?.includes(LOOKUP_ISBN)) return send(200, 'application/json', '{}');
      const body = readFileSync(new URL('openlibrary_found.json', FIXTURES), 'utf8')
        .replaceAll('9780441172719', LOOKUP_ISBN)
        .replaceAll('"Dune"', '"The Left Hand of Darkness"')
        .replaceAll('40th anniversary edition', 'Ace science fiction')
        .replaceAll('Frank Herbert', 'Ursula K. Le Guin')
        .replace(/https:\/\/covers\.openlibrary\.org[^"]*/g, `http://127.0.0.1:${providers.address().port}/covers/lhod.png`);
      return send(200, 'application/json', body);
    }
    if (url.pathname === '/google/books/v1/volumes') return send(200, 'application/json', readFileSync(new URL('google_not_found.json', FIXTURES)));
    if (url.pathname.startsWith('/loc')) return send(200, 'text/xml', readFileSync(new URL('loc_not_found.xml', FIXTURES)));
    if (url.pathname === '/covers/lhod.png') return send(200, 'image/png', coverPng(80, 120));
    send(404, 'text/plain', 'not here');
  });
  await new Promise((r) => providers.listen(0, '127.0.0.1', r));
  process.env.SHELFKEEPER_METADATA_ROOT = `http://127.0.0.1:${providers.address().port}`;
}

before(async () => {
  assert.ok(APP, 'SHELFKEEPER_APP must name the built desktop binary');
  mkdirSync(SHOTS, { recursive: true });
  await startProviders();
  await startTheDriver();
});

after(async () => {
  await driver?.stop();
  providers?.close();
  // The program holds this process's stderr: one left running (see
  // appExited) would keep the test runner waiting for ever.
  await appExited().catch(() => spawnSync('pkill', ['-KILL', '-f', APP]));
});

async function appExited() {
  const running = () => spawnSync('pgrep', ['-f', APP]).status === 0;
  for (let i = 0; i < 150 && running(); i++) await sleep(100);
  if (!running()) return;
  // Seen once, under load: WebKitWebDriver closed its session but the
  // program kept running with its window gone. End it as a logout would;
  // the restart below then also proves nothing is lost that way.
  console.log('# the program was still running 15 s after its WebDriver session closed: sending SIGTERM');
  spawnSync('pkill', ['-TERM', '-f', APP]);
  for (let i = 0; i < 100 && running(); i++) await sleep(100);
  if (running()) throw new Error('the first instance did not exit, even on SIGTERM');
}

const CLI = process.env.SHELFKEEPER_CLI;

/** A small cover-shaped PNG (a vertical gradient), made here so the test
 *  needs no binary fixture. */
function coverPng(width = 60, height = 90) {
  const crcTable = Array.from({ length: 256 }, (_, n) => {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    return c >>> 0;
  });
  const crc = (buf) => {
    let c = 0xffffffff;
    for (const b of buf) c = crcTable[(c ^ b) & 0xff] ^ (c >>> 8);
    return (c ^ 0xffffffff) >>> 0;
  };
  const chunk = (type, data) => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    const td = Buffer.concat([Buffer.from(type), data]);
    const sum = Buffer.alloc(4);
    sum.writeUInt32BE(crc(td));
    return Buffer.concat([len, td, sum]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 2; // truecolour
  const rows = [];
  for (let y = 0; y < height; y++) {
    const row = Buffer.alloc(1 + width * 3);
    for (let x = 0; x < width; x++) row.set([200 - y, 90 + y, 40 + x], 1 + x * 3);
    rows.push(row);
  }
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(Buffer.concat(rows))),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

const shot = (s, name) => s.screenshot(`${SHOTS}/${name}.png`);
const has = (needle) => (text) => text.includes(needle);

test('a library from first run to a returned loan, backup and restore, accounts and roles, and a restart', { timeout: 300_000 }, async () => {
  let s = await Session.start(BASE, APP);
  try {
    // First run: a library with its administrator.
    await s.click('[data-testid="firstrun-library"]');
    await s.type('[data-testid="firstrun-username"]', 'admin');
    await s.type('[data-testid="firstrun-password"]', 'correct horse battery');
    await s.type('[data-testid="firstrun-confirm"]', 'correct horse battery');
    await shot(s, '01-first-run');
    await s.click('[data-testid="firstrun-create"]');
    await s.waitFor('[data-testid="catalogue-empty"]');
    await shot(s, '02-catalogue-empty');

    // Add a title by hand: a wrong check digit is shown at the ISBN field.
    await s.click('[data-testid="catalogue-empty-add"]');
    await s.type('[data-testid="title-field-title"]', 'Dune');
    await s.type('[data-testid="title-field-contributor-name"]', 'Frank Herbert');
    await s.type('[data-testid="title-field-isbn"]', '978-0-441-17271-8');
    await s.click('[data-testid="title-save"]');
    await s.waitFor('[data-testid="title-field-isbn-error"]', has('check digit should be 9'));
    await shot(s, '03-title-form-isbn-error');
    await s.type('[data-testid="title-field-isbn"]', '978-0-441-17271-9');
    await s.click('[data-testid="title-save"]');
    await s.waitFor('[data-testid="title-panel"]', has('Dune'));

    // A copy of it.
    await s.click('[data-testid="copy-add"]');
    await s.type('[data-testid="copy-field-barcode"]', 'B00123');
    await s.click('[data-testid="copy-save"]');
    await s.waitFor('[data-testid="title-panel"]', has('B00123'));

    // Find it by search.
    await s.click('[data-testid="nav-catalogue"]');
    await s.type('[data-testid="catalogue-search"]', 'dun');
    await s.waitFor('[data-testid="result-row"]', has('Dune'));
    await shot(s, '04-catalogue-search');

    // A member.
    await s.click('[data-testid="nav-members"]');
    await s.click('[data-testid="member-add"]');
    await s.type('[data-testid="member-field-card"]', 'M0042');
    await s.type('[data-testid="member-field-name"]', 'Ada Lovelace');
    await s.click('[data-testid="member-save"]');
    await s.waitFor('[data-testid="member-panel"]', has('Ada Lovelace'));
    await shot(s, '05-members');

    // The desk: card, then copy; an unknown barcode changes nothing.
    await s.click('[data-testid="nav-desk"]');
    await s.type('[data-testid="desk-scan"]', 'M0042' + ENTER);
    await s.waitFor('[data-testid="desk-member"]', has('Ada Lovelace'));
    await s.type('[data-testid="desk-scan"]', 'B00123' + ENTER);
    await s.waitFor('[data-testid="desk-message"]', has("Lent 'Dune' to Ada Lovelace"));
    await s.type('[data-testid="desk-scan"]', 'NOPE999' + ENTER);
    await s.waitFor('[data-testid="desk-message"]', has('NOPE999'));
    await shot(s, '06-desk-checkout');
    await s.click('[data-testid="desk-mode-checkin"]');
    await s.type('[data-testid="desk-scan"]', 'B00123' + ENTER);
    await s.waitFor('[data-testid="desk-message"]', has("Returned 'Dune'"));
    await shot(s, '07-desk-checkin');

    // The member's history shows the loan, out and back.
    await s.click('[data-testid="nav-members"]');
    await s.click('[data-testid="member-row"]');
    const row = await s.waitFor('[data-testid="history-row"]', has('Dune'));
    const text = await s.text(row);
    assert.match(text, /Dune/);
    await shot(s, '08-member-history');

    // Accounts: the administrator gives Ada a member account.
    await s.click('[data-testid="nav-settings"]');
    await s.waitFor('[data-testid="account-row"]', has('admin'));
    await s.type('[data-testid="account-field-username"]', 'ada');
    await s.type('[data-testid="account-field-password"]', 'analytical engine 1843');
    await s.click('[data-testid="account-field-role"] option[value="member"]');
    await s.type('[data-testid="account-field-card"]', 'M0042');
    await s.click('[data-testid="account-add"]');
    await s.waitFor('[data-testid="account-row"]', has('ada'));

    // Back up now into the store's backup folder; it is listed.
    await s.click('[data-testid="backup-now"]');
    await s.waitFor('[data-testid="backup-result"]', has('Backed up 1 titles, 1 copies and 1 members'));
    await s.waitFor('[data-testid="backup-row"]', has('shelfkeeper-backup-'));
    await shot(s, '09-settings-accounts-backups');

    // A change after the backup: a second member.
    await s.click('[data-testid="nav-members"]');
    await s.click('[data-testid="member-add"]');
    await s.type('[data-testid="member-field-card"]', 'M0043');
    await s.type('[data-testid="member-field-name"]', 'Grace Hopper');
    await s.click('[data-testid="member-save"]');
    await s.waitFor('[data-testid="member-panel"]', has('Grace Hopper'));

    // Restore the backup: verified, swapped in, and everyone logs in again.
    await s.click('[data-testid="nav-settings"]');
    await s.click('[data-testid="backup-restore"]');
    await s.click('[data-testid="restore-confirm"]');
    await s.type('[data-testid="login-username"]', 'admin');
    await s.type('[data-testid="login-password"]', 'correct horse battery');
    await s.click('[data-testid="login-submit"]');
    await s.click('[data-testid="nav-members"]');
    await s.waitFor('[data-testid="member-row"]', has('Ada Lovelace'));
    const members = await Promise.all((await s.findAll('[data-testid="member-row"]')).map((el) => s.text(el)));
    assert.equal(members.length, 1, `only the member from before the backup: ${members}`);

    // Dark theme: the screens people spend the day in.
    await s.click('[data-testid="nav-settings"]');
    await s.click('[data-testid="settings-theme-dark"]');
    await s.click('[data-testid="nav-catalogue"]');
    await s.type('[data-testid="catalogue-search"]', 'dune');
    await s.click('[data-testid="result-row"]');
    await s.waitFor('[data-testid="title-panel"]', has('B00123'));
    await shot(s, '10-dark-catalogue');
    await s.click('[data-testid="nav-desk"]');
    await s.type('[data-testid="desk-scan"]', 'M0042' + ENTER);
    await s.waitFor('[data-testid="desk-member"]', has('Ada Lovelace'));
    await s.type('[data-testid="desk-scan"]', 'B00123' + ENTER);
    await s.waitFor('[data-testid="desk-message"]', has("Lent 'Dune' to Ada Lovelace"));
    await shot(s, '11-dark-desk');
    await s.click('[data-testid="nav-settings"]');
    await s.click('[data-testid="settings-theme-light"]');
  } catch (e) {
    await shot(s, 'failure-1').catch(() => {});
    throw e;
  } finally {
    await s.quit();
  }

  // A restart keeps everything: log in again and find the book. The app is
  // single-instance, so wait until the first one has really gone.
  await stopDriver();
  await appExited();

  // A cover set from the command line while the app is closed (the desktop's
  // own "Set cover…" opens a native file dialog, which WebDriver cannot drive).
  assert.ok(CLI, 'SHELFKEEPER_CLI must name the built command-line tool');
  const png = `${SHOTS}/../e2e-cover.png`;
  writeFileSync(png, coverPng());
  const store = `${process.env.XDG_DATA_HOME}/org.shelfkeeper.desktop/shelfkeeper.sqlite3`;
  const set = spawnSync(CLI, ['--store', store, 'set-cover', '9780441172719', png], { encoding: 'utf8' });
  assert.equal(set.status, 0, set.stderr);
  assert.match(set.stdout, /Set the cover of 'Dune'/);

  await startTheDriver();
  s = await Session.start(BASE, APP);
  try {
    // A member account sees the catalogue and its own loans, no staff places.
    await s.type('[data-testid="login-username"]', 'ada');
    await s.type('[data-testid="login-password"]', 'analytical engine 1843');
    await s.click('[data-testid="login-submit"]');
    await s.waitFor('[data-testid="nav-mine"]');
    for (const place of ['desk', 'members', 'loans', 'holds']) {
      assert.equal((await s.findAll(`[data-testid="nav-${place}"]`)).length, 0, `a member sees no ${place}`);
    }
    await s.click('[data-testid="nav-mine"]');
    await s.waitFor('[data-testid="member-panel"]', has('Dune'));
    await shot(s, '12-member-own-loans');
    await s.click('[data-testid="logout"]');

    await s.type('[data-testid="login-username"]', 'admin');
    await s.type('[data-testid="login-password"]', 'correct horse battery');
    await s.click('[data-testid="login-submit"]');
    await s.type('[data-testid="catalogue-search"]', 'dune');
    await s.waitFor('[data-testid="result-row"]', has('Dune'));
    // The cover shows in the list and on the title's page, loaded from the
    // store through the cover scheme (the CSP allows nothing remote).
    await s.click('[data-testid="result-row"]');
    const img = await s.waitFor('[data-testid="title-cover"]');
    let width = 0;
    for (let i = 0; i < 50 && width === 0; i++) {
      width = await s.cmd('POST', '/execute/sync', { script: 'return arguments[0].complete ? arguments[0].naturalWidth : 0;', args: [{ 'element-6066-11e4-a52e-4f735466cecf': img }] });
      if (width === 0) await sleep(100);
    }
    assert.equal(width, 60, 'the cover image loaded');
    await shot(s, '13-title-cover');
    // The loan made in the dark-theme round is still out.
    await s.click('[data-testid="nav-loans"]');
    await s.waitFor('[data-testid="loan-row"]', has('Ada Lovelace'));

    // Add by ISBN, as a scanner types it (digits, then Enter): the form
    // opens filled from the look-up, each field credited to its provider.
    await s.click('[data-testid="nav-catalogue"]');
    await s.type('[data-testid="isbn-input"]', LOOKUP_ISBN + ENTER);
    await s.waitFor('[data-testid="lookup-found"]');
    await s.waitFor('[data-testid="lookup-sources"]', has('Open Library'));
    await shot(s, '14-add-by-isbn');
    await s.click('[data-testid="title-save"]');
    await s.waitFor('[data-testid="result-row"]', has('The Left Hand of Darkness'));
    // The panel, open on Dune before, now shows the title just added.
    await s.waitFor('[data-testid="title-panel"]', has('The Left Hand of Darkness'));
    // The same ISBN again offers the title already catalogued.
    await s.type('[data-testid="isbn-input"]', LOOKUP_ISBN + ENTER);
    await s.waitFor('[data-testid="isbn-outcome"]', has('The Left Hand of Darkness'));

    // Import a Goodreads export: a preview first (one new book, Dune
    // already catalogued, one row with a wrong ISBN), then the commit.
    const dir = `${SHOTS}/..`;
    const gr = `${dir}/e2e-goodreads_library_export.csv`;
    const header = 'Book Id,Title,Author,Author l-f,Additional Authors,ISBN,ISBN13,My Rating,Average Rating,Publisher,Binding,Number of Pages,Year Published,Original Publication Year,Date Read,Date Added,Bookshelves,Bookshelves with positions,Exclusive Shelf,My Review,Spoiler,Private Notes,Read Count,Owned Copies';
    const row = (id, title, author, lf, i13, pages) =>
      `${id},"${title}",${author},"${lf}",,"=""""","=""${i13}""",0,4.10,Ace,Paperback,${pages},1990,1965,,2024/01/05,,,to-read,,,,0,0`;
    writeFileSync(gr, [
      header,
      row(101, 'Kindred', 'Octavia E. Butler', 'Butler, Octavia E.', isbn13('978080708369'), 264),
      row(102, 'Dune', 'Frank Herbert', 'Herbert, Frank', '9780441172719', 896),
      row(103, 'A Broken Record', 'Nobody Atall', 'Atall, Nobody', '9780000000000', 100),
    ].join('\r\n') + '\r\n');
    await s.click('[data-testid="catalogue-more"]');
    await s.click('[data-testid="catalogue-import"]');
    await s.type('[data-testid="import-path"]', gr);
    await s.click('[data-testid="import-read"]');
    await s.waitFor('[data-testid="import-count-new"]', has('1'));
    const counts = {};
    for (const k of ['new', 'update', 'duplicate', 'error']) {
      const el = await s.findAll(`[data-testid="import-count-${k}"]`);
      counts[k] = el.length ? await s.text(el[0]) : '';
    }
    assert.match(counts.error, /\b1\b/, `one row with an error: ${JSON.stringify(counts)}`);
    assert.ok(/\b1\b/.test(counts.duplicate) || /\b1\b/.test(counts.update), `Dune is found again: ${JSON.stringify(counts)}`);
    await s.waitFor('[data-testid="import-rows"]', has('Kindred'));
    await shot(s, '15-import-preview');
    await s.click('[data-testid="import-commit"]');
    await s.waitFor('[data-testid="import-result"]', has('1'));
    await shot(s, '16-import-done');
    await s.click('[data-testid="import-close"]');
    await s.type('[data-testid="catalogue-search"]', 'kindred');
    await s.waitFor('[data-testid="result-row"]', has('Kindred'));

    // Export the catalogue as CSV; the file holds every title.
    const out = `${dir}/e2e-export.csv`;
    await s.click('[data-testid="catalogue-more"]');
    await s.click('[data-testid="catalogue-export"]');
    await s.click('[data-testid="export-format-csv"]');
    await s.type('[data-testid="export-path"]', out);
    await shot(s, '17-export');
    await s.click('[data-testid="export-run"]');
    for (let i = 0; i < 100 && !existsSync(out); i++) await sleep(100);
    const exported = readFileSync(out, 'utf8');
    for (const title of ['Dune', 'The Left Hand of Darkness', 'Kindred']) assert.ok(exported.includes(title), `${title} is in the export`);
  } catch (e) {
    await shot(s, 'failure-2').catch(() => {});
    throw e;
  } finally {
    await s.quit();
  }
});
