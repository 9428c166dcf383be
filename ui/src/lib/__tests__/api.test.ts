import { beforeEach, describe, expect, it, vi } from 'vitest';

vi.mock('@tauri-apps/api/core', () => ({ invoke: vi.fn() }));
vi.mock('@tauri-apps/api/event', () => ({ listen: vi.fn() }));

import { invoke } from '@tauri-apps/api/core';
import { listen } from '@tauri-apps/api/event';
import * as api from '../api';

const inv = vi.mocked(invoke);

beforeEach(() => {
  inv.mockReset();
  inv.mockResolvedValue(null);
});

describe('command wrappers', () => {
  it('send the command names and argument names the Rust side expects', async () => {
    await api.addCopy('t1', { barcode: 'B1', location: null, shelf: null, condition: null, acquired_on: null, price_cents: null, currency: null, provenance: null, notes: null });
    expect(inv).toHaveBeenLastCalledWith('add_copy', expect.objectContaining({ titleId: 't1' }));
    await api.placeHold('M1', 't1');
    expect(inv).toHaveBeenLastCalledWith('place_hold', { card: 'M1', titleId: 't1' });
    await api.openLoans(true, 50);
    expect(inv).toHaveBeenLastCalledWith('open_loans', { overdueOnly: true, limit: 50 });
    await api.pickSavePath('backup.sqlite3');
    expect(inv).toHaveBeenLastCalledWith('pick_save_path', { suggestedName: 'backup.sqlite3' });
    await api.saveMemberType({ id: 'x', code: 'adult', name: 'Adult', loan_days: 21, max_renewals: 2, max_loans: 10, hold_pickup_days: 7 });
    expect(inv).toHaveBeenLastCalledWith('save_member_type', expect.objectContaining({ memberType: expect.objectContaining({ code: 'adult' }) }));
    await api.createStore(null, 'collection', null);
    expect(inv).toHaveBeenLastCalledWith('create_store', { path: null, mode: 'collection', admin: null });
    await api.checkOut('M1', 'B1');
    expect(inv).toHaveBeenLastCalledWith('check_out', { card: 'M1', barcode: 'B1' });
  });

  it('reject with {code, message} whatever the failure looked like', async () => {
    inv.mockRejectedValueOnce({ code: 'copy_on_loan', message: 'copy B1 is already on loan' });
    await expect(api.checkOut('M1', 'B1')).rejects.toEqual({ code: 'copy_on_loan', message: 'copy B1 is already on loan' });
    inv.mockRejectedValueOnce('command check_in not found');
    await expect(api.checkIn('B1')).rejects.toEqual({ code: 'unexpected', message: 'command check_in not found' });
  });

  it('delivers job progress payloads', async () => {
    const unlisten = vi.fn();
    vi.mocked(listen).mockImplementation(async (_name, handler) => {
      (handler as (e: { payload: unknown }) => void)({ payload: { job: 'backup', phase: 'writing', done: 0, total: 0 } });
      return unlisten;
    });
    const seen: unknown[] = [];
    const off = await api.onJobProgress((p) => seen.push(p));
    expect(vi.mocked(listen).mock.calls[0][0]).toBe('job-progress');
    expect(seen).toEqual([{ job: 'backup', phase: 'writing', done: 0, total: 0 }]);
    expect(off).toBe(unlisten);
  });
});
