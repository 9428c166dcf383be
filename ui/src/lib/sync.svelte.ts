// Sync as the UI sees it: the overview from Rust (connection, changes
// waiting, last run, conflicts), live progress of a run, and the actions
// of Settings → Sync. Rust does the work (src-tauri/src/sync.rs, the
// sync-client crate) in the background; this module asks and listens.
import * as api from './api';
import { app } from './app.svelte';
import { toErrorPayload, type AppError } from './errors';
import { t } from './strings';
import type { ConflictAction, ConnectRequest, SyncConflict, SyncOverview, SyncProgress } from './types';

/** The schedule's choices, in seconds. */
export const INTERVALS = [5, 30, 60, 300, 900, 3600] as const;

/** One line for the status bar. */
export function statusLine(o: SyncOverview | null, now = Date.now()): string {
  if (!o?.connection) return t.sync.local;
  if (o.running) return t.sync.running;
  const last = o.last_run;
  if (last?.error) return t.sync.failedShort;
  const pending = Number(o.status.pending_changes);
  if (pending > 0 && !last) return t.sync.pending(pending);
  if (!last?.last_success_at) return t.sync.never;
  return t.sync.syncedAgo(ago(new Date(last.last_success_at).getTime(), now));
}

/** "just now", "3 min ago", "2 h ago", "4 days ago". */
export function ago(then: number, now = Date.now()): string {
  const s = Math.max(0, Math.round((now - then) / 1000));
  if (s < 45) return t.sync.justNow;
  const m = Math.round(s / 60);
  if (m < 60) return t.sync.minutes(m);
  const h = Math.round(m / 60);
  if (h < 48) return t.sync.hours(h);
  return t.sync.days(Math.round(h / 24));
}

class Sync {
  overview = $state<SyncOverview | null>(null);
  progress = $state<SyncProgress | null>(null);
  conflicts = $state<SyncConflict[]>([]);
  busy = $state(false);
  error = $state<AppError | null>(null);

  async load() {
    try {
      this.overview = await api.syncOverview();
      // Resolved ones stay listed (who settled what, and how) until the
      // merge rules drop the conflict itself.
      this.conflicts = this.overview.connection ? await api.syncConflicts() : [];
    } catch {
      this.overview = null; // no store open yet, or outside Tauri
    }
  }

  start(): () => void {
    const offs = [
      api.onSyncProgress((p) => (this.progress = p)),
      api.onSyncStatus((o) => {
        // What arrived shows at once: lists reload, counts refresh.
        const before = this.overview?.last_run?.finished_at;
        if (o.last_run && o.last_run.finished_at !== before && o.last_run.applied > 0) app.changed();
        this.overview = o;
        if (!o.running) this.progress = null;
        if (o.connection) void api.syncConflicts().then((c) => (this.conflicts = c)).catch(() => {});
      }),
    ];
    void Promise.allSettled(offs).then(() => this.load());
    // The "synced 3 min ago" line and the pending count stay fresh.
    const timer = setInterval(() => void this.load(), 15_000);
    return () => {
      clearInterval(timer);
      offs.forEach((o) => void o.then((off) => off()).catch(() => {}));
    };
  }

  private async act<T>(f: () => Promise<T>): Promise<T | null> {
    this.busy = true;
    this.error = null;
    try {
      return await f();
    } catch (e) {
      this.error = toErrorPayload(e);
      return null;
    } finally {
      this.busy = false;
      await this.load();
    }
  }

  connect(request: ConnectRequest) {
    return this.act(() => api.syncConnect(request));
  }

  disconnect() {
    return this.act(() => api.syncDisconnect());
  }

  syncNow() {
    this.progress = null;
    return this.act(() => api.syncNow());
  }

  cancel() {
    void api.syncCancel();
  }

  /** Settles a conflict here; the resolution syncs to every desk. */
  resolve(key: string, action: ConflictAction, note: string) {
    return this.act(() => api.syncResolveConflict(key, action, note));
  }

  setInterval(secs: number) {
    return this.act(() => api.syncSetInterval(secs));
  }
}

export const sync = new Sync();
