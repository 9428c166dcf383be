import type { Loan, Member, MemberDetail } from '../types';

export function loan(over: Partial<Loan> = {}): Loan {
  return {
    id: 'loan-1',
    copy_id: 'copy-1',
    barcode: 'C0001',
    title_id: 'title-1',
    title: 'Dune',
    member_id: 'member-1',
    card: 'M001',
    member_name: 'Ada Lovelace',
    out_at: '2025-11-22T10:00:00Z',
    due_on: '2025-12-06',
    renewals: 0,
    returned_at: null,
    lost_at: null,
    ...over,
  };
}

export function member(over: Partial<Member> = {}): Member {
  return {
    id: 'member-1',
    card: 'M001',
    name: 'Ada Lovelace',
    email: null,
    phone: null,
    address: null,
    member_type: 'adult',
    expires_on: null,
    notes: null,
    blocked: false,
    block_reason: null,
    created_at: '2025-01-01T00:00:00Z',
    updated_at: '2025-01-01T00:00:00Z',
    ...over,
  };
}

export function memberDetail(over: Partial<MemberDetail> = {}): MemberDetail {
  return { member: member(), loans: [], history: [], holds: [], ...over };
}

/** A promise the test settles when it chooses: for answers that arrive late. */
export function deferred<T>() {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}
