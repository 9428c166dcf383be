// Dates, numbers and money in the user's locale (Intl). Pure functions; the
// locale can be passed explicitly (tests) and defaults to the user's.

export function userLocale(): string {
  if (typeof navigator !== 'undefined') {
    return usableLocale(navigator.languages?.[0] ?? navigator.language);
  }
  return 'en';
}

/**
 * A locale Intl accepts. Under LANG=C or POSIX, WebKitGTK reports "C", which
 * Intl rejects with a RangeError; fall back to English rather than fail.
 */
export function usableLocale(tag: string | undefined | null): string {
  if (!tag || /^(c|posix)([._@].*)?$/i.test(tag)) return 'en';
  try {
    return Intl.getCanonicalLocales(tag.replace('_', '-'))[0] ?? 'en';
  } catch {
    return 'en';
  }
}

/** Parse "YYYY-MM-DD" as a local calendar date (no time-zone shift). */
export function parseDate(s: string): Date | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(s);
  if (!m) return null;
  const d = new Date(Number(m[1]), Number(m[2]) - 1, Number(m[3]));
  return Number.isNaN(d.getTime()) ? null : d;
}

/** Today as "YYYY-MM-DD" in local time. */
export function todayISO(now: Date = new Date()): string {
  const y = now.getFullYear();
  const m = String(now.getMonth() + 1).padStart(2, '0');
  const d = String(now.getDate()).padStart(2, '0');
  return `${y}-${m}-${d}`;
}

/** ISO dates compare as strings. */
export function isOverdue(dueOn: string, today: string = todayISO()): boolean {
  return dueOn < today;
}

/** Whole days from `from` to `to` (both "YYYY-MM-DD"). */
export function daysBetween(from: string, to: string): number {
  const a = parseDate(from);
  const b = parseDate(to);
  if (!a || !b) return 0;
  return Math.round((Date.UTC(b.getFullYear(), b.getMonth(), b.getDate()) - Date.UTC(a.getFullYear(), a.getMonth(), a.getDate())) / 86_400_000);
}

/** "6 Dec" (or "Dec 6"), with the year only when it is not this year. */
export function shortDate(s: string, locale: string = userLocale(), now: Date = new Date()): string {
  const d = parseDate(s);
  if (!d) return s;
  const opts: Intl.DateTimeFormatOptions = { day: 'numeric', month: 'short' };
  if (d.getFullYear() !== now.getFullYear()) opts.year = 'numeric';
  return new Intl.DateTimeFormat(locale, opts).format(d);
}

/** A calendar date in full: "6 December 2025". */
export function longDate(s: string | null, locale: string = userLocale()): string {
  if (!s) return '';
  const d = parseDate(s);
  if (!d) return s;
  return new Intl.DateTimeFormat(locale, { dateStyle: 'medium' }).format(d);
}

/** An RFC 3339 instant as a local date (and time when asked). */
export function instant(s: string | null, withTime = false, locale: string = userLocale()): string {
  if (!s) return '';
  const d = new Date(s);
  if (Number.isNaN(d.getTime())) return s;
  return new Intl.DateTimeFormat(locale, withTime ? { dateStyle: 'medium', timeStyle: 'short' } : { dateStyle: 'medium' }).format(d);
}

export function num(n: number, locale: string = userLocale()): string {
  return new Intl.NumberFormat(locale).format(n);
}

export function money(cents: number | null, currency: string | null, locale: string = userLocale()): string {
  if (cents === null) return '';
  const value = cents / 100;
  if (currency && /^[A-Z]{3}$/.test(currency)) {
    try {
      return new Intl.NumberFormat(locale, { style: 'currency', currency }).format(value);
    } catch {
      /* fall through */
    }
  }
  return new Intl.NumberFormat(locale, { minimumFractionDigits: 2, maximumFractionDigits: 2 }).format(value);
}

export function bytes(n: number, locale: string = userLocale()): string {
  const units = ['byte', 'kilobyte', 'megabyte', 'gigabyte', 'terabyte'];
  let i = 0;
  let v = n;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return new Intl.NumberFormat(locale, { style: 'unit', unit: units[i], unitDisplay: 'short', maximumFractionDigits: i === 0 ? 0 : 1 }).format(v);
}

/** Parse a price typed by the user ("12.50", "12,50") into cents; null when empty, NaN when not a price. */
export function parsePriceCents(s: string): number | null {
  const t = s.trim();
  if (t === '') return null;
  const m = /^(\d+)(?:[.,](\d{1,2}))?$/.exec(t);
  if (!m) return Number.NaN;
  const frac = (m[2] ?? '').padEnd(2, '0');
  return Number(m[1]) * 100 + Number(frac);
}

export function centsToInput(cents: number | null): string {
  if (cents === null) return '';
  return (cents / 100).toFixed(2);
}
