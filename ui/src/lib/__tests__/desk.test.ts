import { describe, expect, it } from 'vitest';
import {
  checkinAnswer,
  checkoutAnswer,
  classifyScan,
  errorAnswer,
  expiresSoon,
  memberAnswer,
  memberWarnings,
  overdueCount,
  pushMessage,
  renewAnswer,
  retryAsCard,
  type DeskMessage,
} from '../desk';
import { loan, member, memberDetail } from './fixtures';

const o = { locale: 'en-GB', now: new Date(2025, 10, 22) }; // 22 Nov 2025

describe('classifyScan', () => {
  it('treats a scan as a member card when no member is selected in check-out mode', () => {
    expect(classifyScan('M001', 'checkout', null)).toEqual({ kind: 'card', card: 'M001' });
  });

  it('treats a scan as a copy for the selected member in check-out mode', () => {
    expect(classifyScan('C0001', 'checkout', 'M001')).toEqual({ kind: 'checkout', card: 'M001', barcode: 'C0001' });
  });

  it('treats every scan as a return in check-in mode, member or not', () => {
    expect(classifyScan('C0001', 'checkin', null)).toEqual({ kind: 'checkin', barcode: 'C0001' });
    expect(classifyScan('C0001', 'checkin', 'M001')).toEqual({ kind: 'checkin', barcode: 'C0001' });
  });

  it('trims spaces and the line ends some scanners send, and ignores empty scans', () => {
    expect(classifyScan('  C0001\r\n', 'checkin', null)).toEqual({ kind: 'checkin', barcode: 'C0001' });
    expect(classifyScan(' \t ', 'checkout', 'M001')).toEqual({ kind: 'empty' });
    expect(classifyScan('', 'checkin', null)).toEqual({ kind: 'empty' });
  });

  it('retries a lending scan as a card only when no copy had that barcode', () => {
    const lend = classifyScan('M002', 'checkout', 'M001');
    expect(retryAsCard(lend, { code: 'copy_not_found', message: 'no copy has barcode M002' })).toBe(true);
    expect(retryAsCard(lend, { code: 'copy_on_loan', message: 'copy M002 is already on loan' })).toBe(false);
    expect(retryAsCard(classifyScan('M002', 'checkin', null), { code: 'copy_not_found', message: 'x' })).toBe(false);
  });
});

describe('desk answers', () => {
  it('says who borrowed what and when it is due', () => {
    const a = checkoutAnswer({ loan: loan(), fulfilled_hold: false }, o);
    expect(a).toEqual({ tone: 'success', text: "Lent 'Dune' to Ada Lovelace, due 6 Dec" });
  });

  it('adds the year to a due date in another year', () => {
    const a = checkoutAnswer({ loan: loan({ due_on: '2026-01-03' }), fulfilled_hold: true }, o);
    expect(a.text).toBe("Lent 'Dune' to Ada Lovelace, due 3 Jan 2026 — their hold is fulfilled");
  });

  it('tells staff to put a returned copy on the hold shelf', () => {
    const a = checkinAnswer(
      {
        barcode: 'C0001',
        title: 'Dune',
        loan: loan({ returned_at: '2025-11-22T11:00:00Z' }),
        days_overdue: 0,
        found: false,
        hold: { hold_id: 'h1', card: 'M002', member_name: 'Grace Hopper', expires_on: '2025-11-29' },
      },
      o,
    );
    expect(a.tone).toBe('warning');
    expect(a.text).toBe("Returned 'Dune' — hold waiting for Grace Hopper: put it on the hold shelf until 29 Nov");
  });

  it('reports a plain return in green and an overdue one with the days late', () => {
    const base = { barcode: 'C0001', title: 'Dune', loan: loan(), found: false, hold: null };
    expect(checkinAnswer({ ...base, days_overdue: 0 }, o)).toEqual({ tone: 'success', text: "Returned 'Dune'" });
    expect(checkinAnswer({ ...base, days_overdue: 1 }, o).text).toBe("Returned 'Dune' — 1 day overdue");
    expect(checkinAnswer({ ...base, days_overdue: 5 }, o)).toEqual({ tone: 'warning', text: "Returned 'Dune' — 5 days overdue" });
  });

  it('says when a lost copy was found', () => {
    const a = checkinAnswer({ barcode: 'C0001', title: 'Dune', loan: null, days_overdue: 0, found: true, hold: null }, o);
    expect(a.tone).toBe('success');
    expect(a.text).toContain("Found 'Dune'");
  });

  it('reports renewals with the new due date', () => {
    const a = renewAnswer({ loan: loan({ due_on: '2025-12-20' }), previous_due_on: '2025-12-06' }, o);
    expect(a.text).toBe("Renewed 'Dune' for Ada Lovelace, now due 20 Dec");
  });

  it('shows the server message with advice, and never "undefined"', () => {
    const a = errorAnswer({ code: 'copy_not_found', message: 'no copy has barcode X9' });
    expect(a.tone).toBe('error');
    expect(a.text).toBe('No copy has barcode X9. Check the barcode, or add the copy in the Catalogue.');
    const b = errorAnswer({ code: 'copy_on_loan', message: 'copy C1 is already on loan to member M2 until 2025-12-01' });
    expect(b.text).toBe('Copy C1 is already on loan to member M2 until 2025-12-01');
    const c = errorAnswer(undefined);
    expect(c.text).not.toContain('undefined');
    expect(c.text.length).toBeGreaterThan(0);
    const d = errorAnswer(new Error('IPC failed\n    at invoke (core.js:1:1)'));
    expect(d.text).toBe('IPC failed');
  });
});

describe('member at the desk', () => {
  it('warns about a blocked member and an expired card', () => {
    const m = member({ blocked: true, block_reason: 'unpaid fines', expires_on: '2025-11-01' });
    const w = memberWarnings(m, o);
    expect(w).toHaveLength(2);
    expect(w[0]).toContain('unpaid fines');
    expect(w[1]).toContain('1 Nov');
    expect(memberWarnings(member({ expires_on: '2025-11-22' }), o)).toEqual([]);
  });

  it('summarises the member with their open loans, as a warning when lending will be refused', () => {
    const ok = memberAnswer(memberDetail({ loans: [loan(), loan({ id: 'l2' })] }), o);
    expect(ok).toEqual({ tone: 'info', text: 'Ada Lovelace (card M001) — 2 items on loan' });
    const blocked = memberAnswer(memberDetail({ member: member({ blocked: true, block_reason: 'lost books' }) }), o);
    expect(blocked.tone).toBe('warning');
    expect(blocked.text).toContain('Blocked: lost books');
  });

  it('counts overdue loans against today and spots cards about to expire', () => {
    expect(overdueCount([loan({ due_on: '2025-11-21' }), loan({ due_on: '2025-11-22' }), loan({ due_on: '2025-12-01' })], o)).toBe(1);
    expect(expiresSoon(member({ expires_on: '2025-12-01' }), o)).toBe(true);
    expect(expiresSoon(member({ expires_on: '2026-03-01' }), o)).toBe(false);
    expect(expiresSoon(member({ expires_on: '2025-11-01' }), o)).toBe(false);
  });
});

describe('running list', () => {
  it('puts the newest message on top and keeps at most the limit', () => {
    let list: DeskMessage[] = [];
    for (let i = 1; i <= 5; i++) list = pushMessage(list, { tone: 'info', text: `m${i}` }, '', i, 3);
    expect(list.map((m) => m.text)).toEqual(['m5', 'm4', 'm3']);
  });
});
