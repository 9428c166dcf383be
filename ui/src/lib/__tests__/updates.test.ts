import { beforeEach, describe, expect, it, vi } from 'vitest';

vi.mock('@tauri-apps/api/core', () => ({ invoke: vi.fn() }));
vi.mock('@tauri-apps/api/event', () => ({ listen: vi.fn(async () => () => {}) }));

import { invoke } from '@tauri-apps/api/core';
import { updates, failureText, progressLabel } from '../updates.svelte';

const inv = vi.mocked(invoke);
const N = { version: '0.2.0', current_version: '0.1.0', notes: 'Faster search.', date: null };

beforeEach(() => {
  inv.mockReset();
  updates.status = { current_version: '0.1.0', check_automatically: true, available: null };
  updates.error = null;
  updates.installing = false;
});

describe('updates', () => {
  it('checks on demand and remembers what it found', async () => {
    inv.mockResolvedValueOnce(N);
    await updates.check();
    expect(inv).toHaveBeenLastCalledWith('check_for_update', undefined);
    expect(updates.available).toEqual(N);
    expect(updates.upToDate).toBe(false);
    inv.mockResolvedValueOnce(null);
    await updates.check();
    expect(updates.available).toBeNull();
    expect(updates.upToDate).toBe(true);
  });

  it('says why an install failed, with the code, and stops installing', async () => {
    inv.mockRejectedValueOnce({ code: 'update_signature_invalid', message: 'the update was refused because its signature does not match' });
    await updates.install();
    expect(inv).toHaveBeenLastCalledWith('install_update', undefined);
    expect(updates.installing).toBe(false);
    expect(updates.error?.code).toBe('update_signature_invalid');
    const text = failureText(updates.error!);
    expect(text).toMatch(/^The update was refused/);
    expect(text).toContain('update_signature_invalid');
    expect(text).toContain('keeps working');
  });

  it('saves the automatic-check setting', async () => {
    inv.mockResolvedValueOnce(null);
    await updates.setAutomatic(false);
    expect(inv).toHaveBeenLastCalledWith('set_update_check', { automatic: false });
    expect(updates.status?.check_automatically).toBe(false);
  });

  it('names every phase', () => {
    for (const phase of ['downloading', 'verifying', 'backing_up', 'installing', 'restarting'] as const) {
      expect(progressLabel({ phase, done: 0, total: 0 })).not.toBe(phase);
    }
  });
});
