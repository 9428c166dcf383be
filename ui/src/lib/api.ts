// The only module the UI uses to talk to the Rust side (so tests can mock
// this one module): the command wrappers, generated from the Rust commands
// into commands.ts, and the events the Rust side sends.
import { listen, type UnlistenFn } from '@tauri-apps/api/event';
import type { JobProgress, SyncOverview, SyncProgress, UpdateInfo, UpdateProgress } from './types';

export * from './commands';

// --- events ---
export function onJobProgress(handler: (p: JobProgress) => void): Promise<UnlistenFn> {
  return listen<JobProgress>('job-progress', (event) => handler(event.payload));
}

/** Progress of an update being installed. */
export function onUpdateProgress(handler: (p: UpdateProgress) => void): Promise<UnlistenFn> {
  return listen<UpdateProgress>('update-progress', (event) => handler(event.payload));
}

export function onSyncProgress(handler: (p: SyncProgress) => void): Promise<UnlistenFn> {
  return listen<SyncProgress>('sync-progress', (event) => handler(event.payload));
}

export function onSyncStatus(handler: (o: SyncOverview) => void): Promise<UnlistenFn> {
  return listen<SyncOverview>('sync-status', (event) => handler(event.payload));
}

/** An update found by the check at start (or any later check). */
export function onUpdateAvailable(handler: (u: UpdateInfo) => void): Promise<UnlistenFn> {
  return listen<UpdateInfo>('update-available', (event) => handler(event.payload));
}
