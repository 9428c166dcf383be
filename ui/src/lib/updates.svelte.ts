// Updates as the UI sees them: the status from Rust (current version, the
// automatic-check setting, an update found), an on-demand check, and the
// install with its progress. Rust does the work (src-tauri/src/updates.rs);
// this module only asks and listens.
import * as api from './api';
import { toErrorPayload, type AppError } from './errors';
import { t } from './strings';
import type { UpdateInfo, UpdateProgress, UpdateStatus } from './types';

/** The label under the progress bar for one update event. */
export function progressLabel(p: UpdateProgress): string {
  return t.updates.phases[p.phase] ?? p.phase;
}

/** Why an update failed, with its code, and that nothing was lost. */
export function failureText(e: AppError): string {
  const m = e.message.charAt(0).toUpperCase() + e.message.slice(1);
  return t.updates.failed(e.code, m);
}

class Updates {
  status = $state<UpdateStatus | null>(null);
  checking = $state(false);
  /** Set after an on-demand check that found nothing. */
  upToDate = $state(false);
  installing = $state(false);
  progress = $state<UpdateProgress | null>(null);
  error = $state<AppError | null>(null);
  bannerDismissed = $state(false);

  get available(): UpdateInfo | null {
    return this.status?.available ?? null;
  }

  async load() {
    try {
      this.status = await api.updateStatus();
    } catch {
      this.status = null; // outside Tauri: no updates section
    }
  }

  /** Listens for the check at start and for install progress, then loads
   * the status (which holds an update the check found before the UI came up). */
  start(): () => void {
    const offs: Array<Promise<() => void>> = [
      api.onUpdateAvailable((u) => {
        if (this.status) this.status = { ...this.status, available: u };
        else void this.load();
      }),
      api.onUpdateProgress((p) => (this.progress = p)),
    ];
    void Promise.allSettled(offs).then(() => this.load());
    return () => offs.forEach((o) => void o.then((off) => off()).catch(() => {}));
  }

  async check() {
    this.checking = true;
    this.upToDate = false;
    this.error = null;
    try {
      const found = await api.checkForUpdate();
      if (this.status) this.status = { ...this.status, available: found };
      this.upToDate = found === null;
    } catch (e) {
      this.error = toErrorPayload(e);
    } finally {
      this.checking = false;
    }
  }

  async install() {
    this.installing = true;
    this.error = null;
    this.progress = null;
    try {
      await api.installUpdate();
      // The program restarts into the new version now.
    } catch (e) {
      this.error = toErrorPayload(e);
      this.installing = false;
      this.progress = null;
    }
  }

  async setAutomatic(on: boolean) {
    this.error = null;
    try {
      await api.setUpdateCheck(on);
      if (this.status) this.status = { ...this.status, check_automatically: on };
    } catch (e) {
      this.error = toErrorPayload(e);
    }
  }
}

export const updates = new Updates();
