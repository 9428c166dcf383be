// A stand-in for the Rust side, for working on the UI in a plain browser
// (`npm run dev`, then open /dev/mock.html). Never part of the build.
// Query parameters: ?fresh (first run), ?mode=library|collection,
// ?role=member|librarian|admin, ?login (library asks to log in),
// ?titles=N (synthetic catalogue size, default 120000), ?empty.
import { mockIPC } from '@tauri-apps/api/mocks';
import { emit } from '@tauri-apps/api/event';
import type {
  AppStatus,
  CheckinReceipt,
  Copy,
  CopyDraft,
  Facets,
  FacetValue,
  Hold,
  Loan,
  Member,
  MemberDraft,
  MemberType,
  SearchPage,
  SearchRequest,
  StoreStats,
  Title,
  TitleDraft,
  TitleHit,
  SyncOverview,
  UpdateStatus,
} from '../src/lib/types';
import type { CommandName } from '../src/lib/commands';

const params = new URLSearchParams(location.search);
const mode = (params.get('mode') as 'library' | 'collection') ?? 'library';
const role = (params.get('role') as 'member' | 'librarian' | 'admin') ?? 'librarian';
const titleCount = params.has('empty') ? 0 : Number(params.get('titles') ?? 120_000);

class Fail {
  constructor(
    public code: string,
    public message: string,
  ) {}
}
const fail = (code: string, message: string): never => {
  throw { code, message };
};

let storeOpen = !params.has('fresh');
let loggedIn = mode === 'collection' || !params.has('login');
const path = '/home/ada/.local/share/shelfkeeper/shelfkeeper.sqlite3';

function status(): AppStatus {
  return {
    store: storeOpen ? { path, mode, site_id: 'site-1' } : null,
    default_store_path: path,
    session: storeOpen && mode === 'library' && loggedIn ? { username: role === 'member' ? 'grace' : 'ada', role, member_id: role === 'member' ? 'm2' : null, card: role === 'member' ? 'M0002' : null } : null,
    needs_login: storeOpen && mode === 'library' && !loggedIn,
  };
}

// ---- synthetic catalogue ----
const words = ['Dune', 'Foundation', 'Night', 'River', 'Garden', 'Empire', 'Winter', 'Glass', 'Silent', 'Stars', 'Library', 'Atlas', 'Ocean', 'Clockwork', 'Shadow', 'Harbour', 'Lantern', 'Machine', 'Orchard', 'Mountain'];
const people = ['Frank Herbert', 'Ursula K. Le Guin', 'Isaac Asimov', 'Octavia E. Butler', 'Mary Shelley', 'Italo Calvino', 'Jorge Luis Borges', 'Toni Morrison', 'Stanisław Lem', 'Chimamanda Ngozi Adichie'];
const subjects = ['Science fiction', 'History', 'Poetry', 'Philosophy', 'Travel', 'Cooking', 'Biography', 'Mathematics'];
const langs = ['en', 'fr', 'de', 'es', 'it'];
const locations = ['Main hall', 'Children', 'Reference', 'Stacks'];

type T = Title & { authors: string[]; year: number | null };
const titles: T[] = [];
const now = new Date().toISOString();
for (let i = 0; i < titleCount; i++) {
  const a = words[i % words.length];
  const b = words[Math.floor(i / words.length) % words.length];
  const long = i % 97 === 0 ? ': an unusually long subtitle that keeps going well past the width of any reasonable column' : '';
  const year = 1900 + (i % 125);
  const author = people[i % people.length];
  titles.push({
    id: `t${i}`,
    title: i === 0 ? 'Dune' : `The ${a} of ${b} ${i}${long}`,
    subtitle: i % 5 === 0 ? 'A novel' : null,
    contributors: [{ name: i === 0 ? 'Frank Herbert' : author, role: 'author' }],
    authors: [i === 0 ? 'Frank Herbert' : author],
    subjects: [subjects[i % subjects.length]],
    tags: i % 3 === 0 ? ['favourite'] : [],
    series: null,
    series_number: null,
    language: langs[i % langs.length],
    publisher: 'Chilton',
    published: String(year),
    year,
    pages: 200 + (i % 400),
    isbn13: i === 0 ? '9780441172719' : null,
    isbn10: null,
    lccn: null,
    call_number: null,
    notes: null,
    cover_ref: null,
    field_sources: {},
    copy_count: 1 + (i % 3),
    available_count: i % 4 === 0 ? 0 : 1,
    created_at: now,
    updated_at: now,
  });
}

const copies: Copy[] = [];
function copiesOf(id: string): Copy[] {
  const t = titles.find((x) => x.id === id);
  if (!t) return [];
  let own = copies.filter((c) => c.title_id === id);
  if (own.length === 0 && t.copy_count > 0) {
    for (let k = 0; k < t.copy_count; k++) {
      copies.push({
        id: `${id}-c${k}`,
        title_id: id,
        barcode: `${id.slice(1).padStart(6, '0')}${k}`,
        location: locations[k % locations.length],
        shelf: `${String.fromCharCode(65 + k)}-${k + 3}`,
        condition: 'good',
        acquired_on: '2024-03-01',
        price_cents: 1299,
        currency: 'EUR',
        provenance: null,
        notes: null,
        status: k === 0 && t.available_count === 0 ? 'on_loan' : 'available',
        created_at: now,
        updated_at: now,
      });
    }
    own = copies.filter((c) => c.title_id === id);
  }
  return own;
}
if (titles.length > 0) copiesOf('t0');

const memberTypes: MemberType[] = [
  { id: 'mt1', code: 'adult', name: 'Adult', loan_days: 21, max_renewals: 2, max_loans: 10, hold_pickup_days: 7 },
  { id: 'mt2', code: 'child', name: 'Child', loan_days: 14, max_renewals: 1, max_loans: 5, hold_pickup_days: 7 },
];
const members: Member[] = [
  { id: 'm1', card: 'M001', name: 'Ada Lovelace', email: 'ada@example.org', phone: null, address: null, member_type: 'adult', expires_on: '2027-01-01', notes: null, blocked: false, block_reason: null, created_at: now, updated_at: now },
  { id: 'm2', card: 'M002', name: 'Grace Hopper', email: null, phone: null, address: null, member_type: 'adult', expires_on: '2024-01-01', notes: null, blocked: false, block_reason: null, created_at: now, updated_at: now },
  { id: 'm3', card: 'M003', name: 'Alan Turing', email: null, phone: null, address: null, member_type: 'child', expires_on: null, notes: null, blocked: true, block_reason: 'unpaid fines', created_at: now, updated_at: now },
];
const loans: Loan[] = [];
const holds: Hold[] = [];
const today = new Date();
const iso = (d: Date) => d.toISOString().slice(0, 10);
const addDays = (n: number) => {
  const d = new Date();
  d.setDate(d.getDate() + n);
  return iso(d);
};

function lend(card: string, barcode: string, dueIn = 21): Loan {
  const m = members.find((x) => x.card === card) ?? fail('member_not_found', `no member has card ${card}`);
  const c = copies.find((x) => x.barcode === barcode) ?? fail('copy_not_found', `no copy has barcode ${barcode}`);
  if (m.blocked) fail('member_blocked', `member ${card} is blocked: ${m.block_reason}`);
  if (m.expires_on && m.expires_on < iso(today)) fail('member_expired', `member ${card}'s card expired on ${m.expires_on}; renew the membership first`);
  const open = loans.find((l) => l.copy_id === c.id && !l.returned_at);
  if (open) fail('copy_on_loan', `copy ${barcode} is already on loan to member ${open.card} until ${open.due_on}`);
  const t = titles.find((x) => x.id === c.title_id)!;
  const loan: Loan = {
    id: `l${loans.length + 1}`,
    copy_id: c.id,
    barcode,
    title_id: t.id,
    title: t.title,
    member_id: m.id,
    card,
    member_name: m.name,
    out_at: new Date().toISOString(),
    due_on: addDays(dueIn),
    renewals: 0,
    returned_at: null,
    lost_at: null,
  };
  loans.push(loan);
  c.status = 'on_loan';
  return loan;
}

if (titles.length > 2) {
  copiesOf('t1');
  copiesOf('t2');
  lend('M001', copies.find((c) => c.title_id === 't1')!.barcode, -3);
  lend('M001', copies.find((c) => c.title_id === 't2')!.barcode, 10);
  holds.push({ id: 'h1', title_id: 't0', title: 'Dune', member_id: 'm1', card: 'M001', member_name: 'Ada Lovelace', placed_at: now, status: 'waiting', copy_barcode: null, expires_on: null, position: 1 });
holds.push({ id: 'h2', title_id: 't2', title: titles[2]?.title ?? '', member_id: 'm2', card: 'M002', member_name: 'Grace Hopper', placed_at: now, status: 'ready', copy_barcode: '0000020', expires_on: addDays(5), position: null });
}

function hitOf(t: T): TitleHit {
  return { id: t.id, title: t.title, subtitle: t.subtitle, authors: t.authors, year: t.year, isbn13: t.isbn13, language: t.language, copy_count: t.copy_count, available_count: t.available_count, cover_ref: null };
}

function matches(r: SearchRequest): T[] {
  const words = r.text.toLowerCase().split(/\s+/).filter(Boolean);
  const f = r.filters;
  return titles.filter(
    (t) =>
      words.every((w) => t.title.toLowerCase().includes(w) || t.authors.some((a) => a.toLowerCase().includes(w))) &&
      (!f.subject || t.subjects.includes(f.subject)) &&
      (!f.tag || t.tags.includes(f.tag)) &&
      (!f.language || t.language === f.language) &&
      (f.year_from === null || (t.year ?? 0) >= f.year_from) &&
      (f.year_to === null || (t.year ?? 9999) <= f.year_to) &&
      (!f.available || t.available_count > 0),
  );
}

function search(r: SearchRequest): SearchPage {
  let all = matches(r);
  if (r.sort === 'title') all = [...all].sort((a, b) => a.title.localeCompare(b.title));
  if (r.sort === 'year_newest') all = [...all].sort((a, b) => (b.year ?? 0) - (a.year ?? 0));
  if (r.sort === 'year_oldest') all = [...all].sort((a, b) => (a.year ?? 0) - (b.year ?? 0));
  const start = r.cursor ? Number(r.cursor) : 0;
  const limit = r.limit ?? 50;
  const hits = all.slice(start, start + limit).map(hitOf);
  const next = start + limit < all.length ? String(start + limit) : null;
  return { hits, next_cursor: next, total: { value: Math.min(all.length, 1000), exact: all.length <= 1000 } };
}

function count(values: string[]): FacetValue[] {
  const m = new Map<string, number>();
  for (const v of values) m.set(v, (m.get(v) ?? 0) + 1);
  return [...m.entries()].map(([value, count]) => ({ value, count })).sort((a, b) => b.count - a.count);
}

function facets(r: SearchRequest): Facets {
  const sample = matches(r).slice(0, 1000);
  return {
    subjects: count(sample.flatMap((t) => t.subjects)),
    tags: count(sample.flatMap((t) => t.tags)),
    languages: count(sample.map((t) => t.language ?? '')),
    decades: count(sample.map((t) => String(Math.floor((t.year ?? 0) / 10) * 10))).sort((a, b) => a.value.localeCompare(b.value)),
    locations: count(locations),
    available: sample.filter((t) => t.available_count > 0).length,
    sample: sample.length,
    exact: sample.length < 1000,
  };
}

function saveTitle(id: string | null, d: TitleDraft): Title {
  if (d.title.trim() === '') fail('invalid', 'title: is required');
  if (d.isbn && d.isbn.replace(/[^0-9X]/gi, '').length === 13 && d.isbn.endsWith('0')) fail('isbn_checksum', `'${d.isbn}' is not a valid ISBN: the check digit should be 9`);
  if (d.published && !/^\d{4}(-\d{2}){0,2}$/.test(d.published)) fail('invalid', `published: '${d.published}' is not a date; use YYYY, YYYY-MM or YYYY-MM-DD`);
  const base = id ? titles.find((t) => t.id === id) : undefined;
  const t: T = {
    ...(base ?? { id: `t${titles.length}`, copy_count: 0, available_count: 0, created_at: now, isbn10: null, field_sources: {} }),
    ...d,
    isbn13: d.isbn,
    authors: d.contributors.map((c) => c.name),
    year: d.published ? Number(d.published.slice(0, 4)) : null,
    updated_at: new Date().toISOString(),
  } as T;
  if (base) Object.assign(base, t);
  else titles.unshift(t);
  return t;
}

function detail(id: string) {
  const t = titles.find((x) => x.id === id) ?? fail('title_not_found', `no title with id ${id}`);
  return { title: t, copies: copiesOf(id), loans: loans.filter((l) => l.title_id === id), holds: holds.filter((h) => h.title_id === id), reviews: id === 't0' ? [{ id: 'r1', title_id: 't0', member_id: 'm1', rating: 5, body: 'Still the best desert planet.', created_at: now, updated_at: now }] : [] };
}

function memberDetail(card: string) {
  const m = members.find((x) => x.card === card) ?? fail('member_not_found', `no member has card ${card}`);
  const mine = loans.filter((l) => l.member_id === m.id);
  return { member: m, loans: mine.filter((l) => !l.returned_at), history: mine, holds: holds.filter((h) => h.member_id === m.id) };
}

function checkIn(barcode: string): CheckinReceipt {
  const c = copies.find((x) => x.barcode === barcode) ?? fail('copy_not_found', `no copy has barcode ${barcode}`);
  const loan = loans.find((l) => l.copy_id === c.id && !l.returned_at) ?? fail('copy_not_on_loan', `copy ${barcode} is not on loan`);
  loan.returned_at = new Date().toISOString();
  c.status = 'available';
  const days = Math.max(0, Math.round((today.getTime() - new Date(loan.due_on).getTime()) / 86_400_000));
  const waiting = holds.find((h) => h.title_id === c.title_id && h.status === 'waiting');
  if (waiting) {
    waiting.status = 'ready';
    waiting.expires_on = addDays(7);
    waiting.copy_barcode = barcode;
    c.status = 'on_hold_shelf';
  }
  return { barcode, title: loan.title, loan, days_overdue: days, found: false, hold: waiting ? { hold_id: waiting.id, card: waiting.card, member_name: waiting.member_name, expires_on: waiting.expires_on! } : null };
}

function stats(): StoreStats {
  const open = loans.filter((l) => !l.returned_at);
  return { titles: titles.length, copies: titles.reduce((n, t) => n + t.copy_count, 0), members: members.length, accounts: 2, open_loans: open.length, overdue_loans: open.filter((l) => l.due_on < iso(today)).length, loans_ever: loans.length, events: loans.length * 2, active_holds: holds.length, pending_changes: 0, file_bytes: 48_000_000 };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

type Args = Record<string, unknown>;
// `cmd` is every command the Rust side has (the generated Commands map): the
// switch must handle each one, so a new command fails svelte-check here
// until the mock answers it.
async function handle(cmd: CommandName, a: Args): Promise<unknown> {
  await sleep(cmd === 'search' ? 15 : 5);
  switch (cmd) {
    case 'app_status':
      return status();
    case 'ui_ready':
      return null;
    case 'create_store': {
      const admin = a.admin as { username: string; password: string } | null;
      if (admin && admin.password.length < 8) fail('weak_password', 'password: must be at least 8 characters');
      storeOpen = true;
      loggedIn = true;
      return status();
    }
    case 'open_store':
      storeOpen = true;
      return status();
    case 'login':
      if (a.password !== 'password123') fail('invalid_credentials', 'wrong username or password');
      loggedIn = true;
      return status();
    case 'logout':
      loggedIn = false;
      return status();
    case 'search':
      return search(a.request as SearchRequest);
    case 'facets':
      return facets(a.request as SearchRequest);
    case 'title_detail':
      return detail(a.id as string);
    case 'save_title':
      return saveTitle(a.id as string | null, a.draft as TitleDraft);
    case 'delete_title': {
      const t = titles.find((x) => x.id === a.id);
      if (t && t.copy_count > 0) fail('title_has_copies', `'${t.title}' still has ${t.copy_count} copies; delete or move them first`);
      return null;
    }
    case 'add_copy': {
      const d = a.draft as CopyDraft;
      if (copies.some((c) => c.barcode === d.barcode)) fail('duplicate_barcode', `barcode ${d.barcode} is already used by another copy`);
      if (d.barcode === '') fail('invalid', 'barcode: is required');
      const c: Copy = { ...d, id: `c${copies.length}`, title_id: a.titleId as string, status: 'available', created_at: now, updated_at: now };
      copies.push(c);
      const t = titles.find((x) => x.id === a.titleId);
      if (t) {
        t.copy_count++;
        t.available_count++;
      }
      return c;
    }
    case 'update_copy': {
      const c = copies.find((x) => x.id === a.id) ?? fail('copy_not_found', 'no such copy');
      Object.assign(c, a.draft);
      return c;
    }
    case 'delete_copy':
      return null;
    case 'find_members': {
      const q = String(a.text).toLowerCase();
      return members.filter((m) => m.name.toLowerCase().includes(q) || m.card.toLowerCase().includes(q));
    }
    case 'member_detail':
      return memberDetail(a.card as string);
    case 'save_member': {
      const d = a.draft as MemberDraft;
      if (d.name === '') fail('invalid', 'name: is required');
      if (d.email && !d.email.includes('@')) fail('invalid', `email: '${d.email}' is not an email address`);
      const existing = members.find((m) => m.id === a.id);
      if (members.some((m) => m.card === d.card && m.id !== a.id)) fail('duplicate_card', `card ${d.card} is already used by another member`);
      if (existing) return Object.assign(existing, d);
      const m: Member = { ...d, id: `m${members.length + 1}`, blocked: false, block_reason: null, created_at: now, updated_at: now };
      members.push(m);
      return m;
    }
    case 'set_member_blocked': {
      const m = members.find((x) => x.card === a.card) ?? fail('member_not_found', 'no member');
      m.blocked = a.reason !== null;
      m.block_reason = (a.reason as string | null) ?? null;
      return m;
    }
    case 'member_types':
      return memberTypes;
    case 'save_member_type': {
      const mt = a.memberType as MemberType;
      if (mt.loan_days < 1 || mt.loan_days > 365) fail('invalid', 'loan_days: must be between 1 and 365');
      const i = memberTypes.findIndex((x) => x.id === mt.id);
      if (i >= 0) memberTypes[i] = mt;
      else memberTypes.push(mt);
      return mt;
    }
    case 'check_out': {
      const loan = lend(a.card as string, a.barcode as string);
      return { loan, fulfilled_hold: false };
    }
    case 'check_in':
      return checkIn(a.barcode as string);
    case 'renew': {
      const l = loans.find((x) => x.barcode === a.barcode && !x.returned_at) ?? fail('copy_not_on_loan', `copy ${a.barcode} is not on loan`);
      if (l.renewals >= 2) fail('renewal_limit_reached', `copy ${l.barcode} has been renewed 2 times, the most allowed`);
      const prev = l.due_on;
      l.due_on = addDays(21);
      l.renewals++;
      return { loan: l, previous_due_on: prev };
    }
    case 'place_hold': {
      const m = members.find((x) => x.card === a.card) ?? fail('member_not_found', `no member has card ${a.card}`);
      const t = titles.find((x) => x.id === a.titleId)!;
      const h: Hold = { id: `h${holds.length + 1}`, title_id: t.id, title: t.title, member_id: m.id, card: m.card, member_name: m.name, placed_at: new Date().toISOString(), status: 'waiting', copy_barcode: null, expires_on: null, position: holds.filter((x) => x.title_id === t.id).length + 1 };
      holds.push(h);
      return h;
    }
    case 'cancel_hold': {
      const h = holds.find((x) => x.id === a.id) ?? fail('hold_not_found', 'no hold');
      h.status = 'cancelled';
      holds.splice(holds.indexOf(h), 1);
      return null;
    }
    case 'open_loans':
      return loans.filter((l) => !l.returned_at && (!a.overdueOnly || l.due_on < iso(today)));
    case 'active_holds':
      return holds.filter((h) => h.status === 'waiting' || h.status === 'ready');
    case 'stats':
      return stats();
    case 'backup_now': {
      for (let i = 0; i <= 10; i++) {
        await emit('job-progress', { job: 'backup', phase: 'writing', done: i, total: i === 0 ? 0 : 10 });
        await sleep(150);
      }
      return { path: a.dest, bytes: 48_000_000, titles: titles.length, copies: copies.length, members: members.length, events: 10 };
    }
    case 'restore_backup':
      await emit('job-progress', { job: 'restore', phase: 'verifying', done: 0, total: 0 });
      await sleep(800);
      await emit('job-progress', { job: 'restore', phase: 'done', done: 1, total: 1 });
      return status();
    case 'pick_save_path':
      return `/home/ada/Backups/${a.suggestedName}`;
    case 'pick_open_path':
      return '/home/ada/Backups/shelfkeeper-backup.sqlite3';
    case 'list_backups':
      return { dir: '/home/ada/.local/share/org.shelfkeeper.desktop/backups', backups: [] };
    case 'accounts':
      return [{ id: '0193a2b4-0000-7000-8000-000000000001', username: 'admin', role: 'admin', disabled: false, member_id: null, created_at: new Date().toISOString() }];
    case 'create_account':
    case 'update_account':
      return fail('unexpected', 'accounts are not simulated in the mock');
    case 'set_cover_from_file':
      return null; // as if the dialog was cancelled
    case 'clear_cover':
      return fail('unexpected', 'covers are not simulated in the mock');
    case 'lookup_isbn': {
      const isbn = String(a.isbn).replace(/[^0-9X]/gi, '');
      await sleep(300);
      const existing = titles.find((t) => t.isbn13 === isbn) ?? null;
      if (isbn === '9780441478125') {
        const draft: TitleDraft = { title: 'The Left Hand of Darkness', subtitle: null, contributors: [{ name: 'Ursula K. Le Guin', role: 'author' }], subjects: ['Science fiction'], tags: [], series: null, series_number: null, language: 'en', publisher: 'Ace Books', published: '1969', pages: 304, isbn, lccn: null, call_number: null, notes: null, cover_ref: null };
        return { isbn13: isbn, outcome: 'found', message: 'Found by Open Library', from_cache: false, fetched_at: now, existing, draft, sources: { title: 'open_library', contributors: 'open_library', subjects: 'open_library', publisher: 'open_library', published: 'open_library', pages: 'open_library', language: 'google_books', isbn: 'open_library' }, cover_url: null, providers: [] };
      }
      return { isbn13: isbn, outcome: existing ? 'found' : 'not_found', message: `No provider knows ISBN ${isbn} (3 asked)`, from_cache: false, fetched_at: now, existing, draft: null, sources: {}, cover_url: null, providers: [] };
    }
    case 'add_title_from_lookup':
      return { title: saveTitle(null, a.draft as TitleDraft), cover_problem: null };
    case 'set_field_lock': {
      const t = titles.find((x) => x.id === a.titleId) ?? fail('title_not_found', 'no such title');
      t.field_sources = { ...t.field_sources, [a.field as string]: { source: 'manual', at: now, locked: Boolean(a.locked) } };
      return t;
    }
    case 'cancel_job':
      return null;
    case 'pick_import_file':
      return '/home/ada/Downloads/goodreads_library_export.csv';
    case 'default_export_dir':
      return '/home/ada/Documents';
    case 'pick_save_file':
      return `/home/ada/Documents/${a.suggestedName}`;
    case 'list_imports':
      return [];
    case 'stage_import': {
      for (let i = 0; i <= 5; i++) {
        await emit('job-progress', { job: 'import', phase: 'checking', done: i * 200, total: 1000 });
        await sleep(120);
      }
      const summary = { id: 'imp1', source_name: 'goodreads_library_export.csv', format: 'goodreads', state: 'staged', staged_at: now, committed_at: null, total: 1000, new: 930, update: 41, duplicate: 25, error: 4, done: 0, created_titles: 0, updated_titles: 0, created_copies: 0 };
      return { info: { format: 'csv', preset: 'goodreads', encoding: 'UTF-8', headers: [], unmapped: ['Average Rating', 'Spoiler'], raw_header: null, delimiter: 'comma' }, summary };
    }
    case 'import_rows': {
      const kind = (a.kind as string) ?? 'new';
      return Array.from({ length: kind === 'error' ? 4 : 30 }, (_, i) => ({ n: i + 1, position: `line ${i + 2}`, kind, title: `${words[i % words.length]} ${words[(i * 7) % words.length]}`, reason: kind === 'error' ? "'97804411727' is not a valid ISBN: it has 11 digits" : kind === 'update' ? 'matches by ISBN; changes pages' : kind === 'duplicate' ? 'already catalogued (matched by ISBN)' : null, matched_title: null, done: false, outcome: null }));
    }
    case 'commit_import': {
      for (let i = 0; i <= 10; i++) {
        await emit('job-progress', { job: 'import', phase: 'importing', done: i * 100, total: 1000 });
        await sleep(150);
      }
      return { id: 'imp1', source_name: 'goodreads_library_export.csv', format: 'goodreads', state: 'committed', staged_at: now, committed_at: now, total: 1000, new: 930, update: 41, duplicate: 25, error: 4, done: 1000, created_titles: 930, updated_titles: 41, created_copies: 612 };
    }
    case 'discard_import':
      return null;
    case 'save_failed_rows':
      return true;
    case 'export_catalogue': {
      for (let i = 0; i <= 10; i++) {
        await emit('job-progress', { job: 'export', phase: 'exporting', done: i * titles.length / 10, total: titles.length });
        await sleep(120);
      }
      return { path: a.path, titles: titles.length, copies: copies.length, bytes: 1_000_000, seconds: 1.2 };
    }
    case 'update_status':
      return { current_version: '0.1.0', check_automatically: true, available: null } satisfies UpdateStatus;
    case 'set_update_check':
      return null;
    case 'check_for_update':
      return null;
    case 'install_update':
      return fail('no_update', 'No update is waiting to be installed; check for updates first.');
    case 'sync_overview':
      return syncOverview();
    case 'sync_connect':
    case 'sync_set_interval':
    case 'sync_now':
      return fail('sync_offline', 'The mock has no server to sync with.');
    case 'sync_disconnect':
    case 'sync_cancel':
      return null;
    case 'sync_conflicts':
      return [];
    case 'sync_resolve_conflict':
      return fail('not_found', 'No such conflict.');
    default: {
      const unhandled: never = cmd;
      throw new Fail('unexpected', `unknown command ${unhandled}`);
    }
  }
}

function syncOverview(): SyncOverview {
  return {
    connection: null,
    status: { pending_changes: 0, cursor: 0, open_conflicts: 0 },
    last_run: null,
    running: false,
    progress: null,
  };
}

mockIPC((cmd, args) => handle(cmd as CommandName, (args ?? {}) as Args), { shouldMockEvents: true });
