// App-wide state: the open store and session, which place is shown, store
// counts for the status bar, background jobs and short notices.
import * as api from './api';
import { errorMessage } from './errors';
import { t } from './strings';
import type { AppStatus, JobProgress, MemberType, StoreStats } from './types';

export type Place = 'catalogue' | 'desk' | 'members' | 'loans' | 'holds' | 'mine' | 'settings';
export type NoticeTone = 'success' | 'error' | 'info';
export type Notice = { id: number; text: string; tone: NoticeTone };

const CARD_KEY = 'shelfkeeper.myCard';

function readStored(key: string): string | null {
  try {
    return typeof localStorage !== 'undefined' ? localStorage.getItem(key) : null;
  } catch {
    return null;
  }
}

function writeStored(key: string, value: string | null) {
  try {
    if (value === null) localStorage.removeItem(key);
    else localStorage.setItem(key, value);
  } catch {
    /* storage unavailable: remembered for this session only */
  }
}

class AppState {
  status = $state<AppStatus | null>(null);
  bootError = $state<string | null>(null);
  stats = $state<StoreStats | null>(null);
  place = $state<Place>('catalogue');
  job = $state<JobProgress | null>(null);
  notice = $state<Notice | null>(null);
  /** Bumped to ask the catalogue to focus its search box. */
  searchFocus = $state(0);
  /** Bumped after any change to the store, so open lists reload. */
  version = $state(0);
  shortcutsOpen = $state(false);
  memberTypes = $state<MemberType[]>([]);
  /** A member account's own card number (members look up their loans by it). */
  #myCard = $state<string | null>(readStored(CARD_KEY));
  private noticeTimer: ReturnType<typeof setTimeout> | null = null;
  private readyMarked = new Set<string>();
  private noticeSeq = 0;

  get myCard(): string | null {
    // A member account knows its own card; the typed one is a fallback.
    return this.status?.session?.card ?? this.#myCard;
  }
  set myCard(card: string | null) {
    this.#myCard = card;
    writeStored(CARD_KEY, card);
  }

  get mode() {
    return this.status?.store?.mode ?? null;
  }
  get role() {
    return this.status?.session?.role ?? null;
  }
  get isCollection() {
    return this.mode === 'collection';
  }
  /** May use the desk, members, loans and holds. */
  get isStaff() {
    return this.isCollection || this.role === 'librarian' || this.role === 'admin';
  }
  get places(): Place[] {
    return this.isStaff
      ? ['catalogue', 'desk', 'members', 'loans', 'holds', 'settings']
      : ['catalogue', 'mine', 'settings'];
  }
  get ready() {
    return this.status !== null && this.status.store !== null && !this.status.needs_login;
  }

  placeLabel(p: Place): string {
    switch (p) {
      case 'catalogue':
        return t.nav.catalogue;
      case 'desk':
        return this.isCollection ? t.nav.deskCollection : t.nav.desk;
      case 'members':
        return this.isCollection ? t.nav.lentOut : t.nav.members;
      case 'loans':
        return t.nav.loans;
      case 'holds':
        return t.nav.holds;
      case 'mine':
        return t.nav.mine;
      case 'settings':
        return t.nav.settings;
    }
  }

  /** Tells the shell, once per screen, that it has been painted: the
   *  startup time goes to the log (and the launch benchmark reads it). */
  markReady(screen: 'first-run' | 'login' | 'catalogue') {
    if (this.readyMarked.has(screen)) return;
    this.readyMarked.add(screen);
    // Two frames: the first runs before the paint, the second after it.
    requestAnimationFrame(() => requestAnimationFrame(() => void api.uiReady(screen).catch(() => {})));
  }

  async boot() {
    try {
      this.setStatus(await api.appStatus());
      this.bootError = null;
    } catch (e) {
      this.bootError = errorMessage(e);
    }
  }

  setStatus(s: AppStatus) {
    const before = this.status;
    this.status = s;
    const sameStore = before?.store?.path === s.store?.path && before?.session?.username === s.session?.username;
    if (!sameStore) {
      this.place = 'catalogue';
      this.stats = null;
      this.memberTypes = [];
    }
    if (this.ready) {
      this.version++;
      void this.refreshStats();
      void this.loadMemberTypes();
    }
  }

  go(p: Place) {
    if (!this.places.includes(p)) return;
    this.place = p;
    if (p === 'catalogue') this.searchFocus++;
  }

  focusSearch() {
    this.place = 'catalogue';
    this.searchFocus++;
  }

  /** Something in the store changed: reload counts and open lists. */
  changed() {
    this.version++;
    void this.refreshStats();
  }

  async refreshStats() {
    if (!this.ready) return;
    try {
      this.stats = await api.stats();
    } catch {
      // The status bar keeps its last counts; the next change tries again.
    }
  }

  async loadMemberTypes() {
    if (!this.ready || !this.isStaff) return;
    try {
      this.memberTypes = await api.memberTypes();
    } catch {
      this.memberTypes = [];
    }
  }

  memberTypeName(code: string): string {
    return this.memberTypes.find((m) => m.code === code)?.name ?? code;
  }

  notify(text: string, tone: NoticeTone = 'success') {
    if (this.noticeTimer) clearTimeout(this.noticeTimer);
    this.notice = { id: ++this.noticeSeq, text, tone };
    this.noticeTimer = setTimeout(() => {
      this.notice = null;
      this.noticeTimer = null;
    }, tone === 'error' ? 8000 : 4000);
  }

  async logout() {
    try {
      this.setStatus(await api.logout());
    } catch (e) {
      this.notify(errorMessage(e), 'error');
    }
  }
}

export const app = new AppState();
