// The circulation desk's logic, free of UI: what a scan means, and how each
// answer reads. Every function here is pure (tests in __tests__/desk.test.ts).
import { t } from './strings';
import { shortDate, daysBetween, isOverdue, todayISO } from './format';
import { toErrorPayload } from './errors';
import type { CheckinReceipt, CheckoutReceipt, Member, MemberDetail, RenewReceipt } from './types';

export type DeskMode = 'checkout' | 'checkin';

export type ScanAction =
  | { kind: 'empty' }
  | { kind: 'card'; card: string }
  | { kind: 'checkout'; card: string; barcode: string }
  | { kind: 'checkin'; barcode: string };

/**
 * What a scan means. Scanners type the code and press Enter; people may add
 * stray spaces. In check-out mode with no member selected, a scan is a member
 * card; with a member selected it is a copy barcode to lend to them. In
 * check-in mode every scan is a copy barcode.
 */
export function classifyScan(raw: string, mode: DeskMode, selectedCard: string | null): ScanAction {
  const code = raw.replace(/[\r\n\t]/g, '').trim();
  if (code === '') return { kind: 'empty' };
  if (mode === 'checkin') return { kind: 'checkin', barcode: code };
  if (selectedCard === null) return { kind: 'card', card: code };
  return { kind: 'checkout', card: selectedCard, barcode: code };
}

/**
 * A lending scan that found no copy may be the next member's card (staff
 * scanned a card without pressing Esc first): worth one look-up as a card.
 */
export function retryAsCard(action: ScanAction, error: unknown): boolean {
  return action.kind === 'checkout' && toErrorPayload(error).code === 'copy_not_found';
}

export type Tone = 'success' | 'warning' | 'error' | 'info';
export type DeskAnswer = { tone: Tone; text: string };

export type FormatOptions = { locale?: string; now?: Date };

function due(date: string, o: FormatOptions): string {
  return shortDate(date, o.locale, o.now);
}

export function checkoutAnswer(r: CheckoutReceipt, o: FormatOptions = {}): DeskAnswer {
  let text = t.desk.lent(r.loan.title, r.loan.member_name, due(r.loan.due_on, o));
  if (r.fulfilled_hold) text += ` — ${t.desk.lentHold}`;
  return { tone: 'success', text };
}

export function checkinAnswer(r: CheckinReceipt, o: FormatOptions = {}): DeskAnswer {
  if (r.found && !r.loan) {
    const text = r.hold ? `${t.desk.found(r.title)} — ${holdPart(r, o)}` : t.desk.found(r.title);
    return { tone: r.hold ? 'warning' : 'success', text };
  }
  if (!r.loan) {
    return { tone: 'info', text: t.desk.notOnLoan(r.title) };
  }
  const parts = [t.desk.returned(r.title)];
  if (r.days_overdue > 0) parts.push(t.desk.overdueBy(r.days_overdue));
  if (r.hold) parts.push(holdPart(r, o));
  const tone: Tone = r.hold || r.days_overdue > 0 ? 'warning' : 'success';
  return { tone, text: parts.join(' — ') };
}

function holdPart(r: CheckinReceipt, o: FormatOptions): string {
  const h = r.hold!;
  let s = t.desk.holdWaiting(h.member_name);
  if (h.expires_on) s += ` ${t.desk.holdUntil(due(h.expires_on, o))}`;
  return s;
}

export function renewAnswer(r: RenewReceipt, o: FormatOptions = {}): DeskAnswer {
  return { tone: 'success', text: t.desk.renewed(r.loan.title, r.loan.member_name, due(r.loan.due_on, o)) };
}

export function memberAnswer(d: MemberDetail, o: FormatOptions = {}): DeskAnswer {
  const warnings = memberWarnings(d.member, o);
  const text = t.desk.memberSelected(d.member.name, d.member.card, d.loans.length);
  if (warnings.length > 0) return { tone: 'warning', text: `${text} — ${warnings.join(' ')}` };
  return { tone: 'info', text };
}

/** Why lending to this member will be refused (blocked, expired), in words. */
export function memberWarnings(m: Member, o: FormatOptions = {}): string[] {
  const out: string[] = [];
  if (m.blocked) out.push(t.desk.blocked(m.block_reason ?? ''));
  const today = todayISO(o.now);
  if (m.expires_on && m.expires_on < today) out.push(t.desk.expired(shortDate(m.expires_on, o.locale, o.now)));
  return out;
}

/** A card that expires within two weeks deserves a note. */
export function expiresSoon(m: Member, o: FormatOptions = {}): boolean {
  if (!m.expires_on) return false;
  const days = daysBetween(todayISO(o.now), m.expires_on);
  return days >= 0 && days <= 14;
}

export function overdueCount(loans: { due_on: string }[], o: FormatOptions = {}): number {
  const today = todayISO(o.now);
  return loans.filter((l) => isOverdue(l.due_on, today)).length;
}

/** An error as the desk shows it: the server's words, then what to do when we know. */
export function errorAnswer(error: unknown): DeskAnswer {
  const e = toErrorPayload(error);
  const msg = e.message.charAt(0).toUpperCase() + e.message.slice(1);
  const hint = t.desk.hints[e.code];
  return { tone: 'error', text: hint ? `${msg.replace(/[.!]\s*$/, '')}. ${hint}` : msg };
}

export type DeskMessage = DeskAnswer & { id: number; code: string };

/** Newest first, bounded. */
export function pushMessage(list: DeskMessage[], answer: DeskAnswer, code: string, id: number, max = 200): DeskMessage[] {
  const next = [{ ...answer, id, code }, ...list];
  return next.length > max ? next.slice(0, max) : next;
}
