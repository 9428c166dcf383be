import { describe, expect, it, vi } from 'vitest';

vi.mock('@tauri-apps/api/core', () => ({ invoke: vi.fn() }));
vi.mock('@tauri-apps/api/event', () => ({ listen: vi.fn() }));

import { invoke } from '@tauri-apps/api/core';
import * as api from '../api';
import { ago, statusLine } from '../sync.svelte';
import type { SyncOverview } from '../types';

const NOW = Date.parse('2026-11-24T12:00:00Z');

function overview(over: Partial<SyncOverview> = {}): SyncOverview {
  return {
    connection: {
      server: 'https://library.example.org',
      library_id: '0193f0e0-0000-7000-8000-000000000001',
      library_name: 'Riverside',
      email: 'desk@example.org',
      device_name: 'Front desk',
      interval_secs: 60,
      connected_at: '2026-11-24T10:00:00Z',
    },
    status: { pending_changes: 0, cursor: 10, open_conflicts: 0 },
    last_run: null,
    running: false,
    progress: null,
    ...over,
  };
}

describe('sync status line', () => {
  it('says local only without a connection', () => {
    expect(statusLine(null)).toBe('Local only');
    expect(statusLine(overview({ connection: null }))).toBe('Local only');
  });

  it('tells a running sync, a failure, and when it last worked', () => {
    expect(statusLine(overview({ running: true }), NOW)).toBe('Syncing…');
    const failed = { finished_at: '2026-11-24T11:59:00Z', error_code: 'sync_offline', error: 'offline', pushed: 0, pulled: 0, applied: 0, conflicts: 0, clock_ahead: 0, last_success_at: null };
    expect(statusLine(overview({ last_run: failed }), NOW)).toBe('Sync failed');
    const ok = { ...failed, error_code: null, error: null, last_success_at: '2026-11-24T11:57:00Z' };
    expect(statusLine(overview({ last_run: ok }), NOW)).toBe('Synced 3 min ago');
    expect(statusLine(overview({ status: { pending_changes: 4, cursor: 0, open_conflicts: 0 } }), NOW)).toBe('4 changes not synced');
  });

  it('rounds ages the way people say them', () => {
    expect(ago(NOW - 10_000, NOW)).toBe('just now');
    expect(ago(NOW - 5 * 60_000, NOW)).toBe('5 min ago');
    expect(ago(NOW - 3 * 3600_000, NOW)).toBe('3 h ago');
    expect(ago(NOW - 3 * 86400_000, NOW)).toBe('3 days ago');
  });
});

describe('sync commands', () => {
  it('send the names and arguments the Rust side expects', async () => {
    const inv = vi.mocked(invoke);
    inv.mockResolvedValue(null);
    await api.syncConnect({ server: 'https://s', email: 'e@x', password: 'pw', library: null, device_name: 'Desk' });
    expect(inv).toHaveBeenLastCalledWith('sync_connect', { request: expect.objectContaining({ server: 'https://s', device_name: 'Desk' }) });
    await api.syncSetInterval(30);
    expect(inv).toHaveBeenLastCalledWith('sync_set_interval', { secs: 30 });
    await api.syncNow();
    expect(inv).toHaveBeenLastCalledWith('sync_now', undefined);
    await api.syncResolveConflict('events:a:b', 'acknowledged', 'Ada has it');
    expect(inv).toHaveBeenLastCalledWith('sync_resolve_conflict', { key: 'events:a:b', action: 'acknowledged', note: 'Ada has it' });
  });
});
