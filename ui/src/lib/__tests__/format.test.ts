import { describe, expect, it } from 'vitest';
import { daysBetween, isOverdue, money, num, parseDate, parsePriceCents, shortDate, todayISO, usableLocale } from '../format';
import { splitList, titleDraft, titleForm, copyDraft, copyForm } from '../drafts';

describe('dates', () => {
  it('parses calendar dates without a time-zone shift', () => {
    const d = parseDate('2025-12-06')!;
    expect([d.getFullYear(), d.getMonth(), d.getDate()]).toEqual([2025, 11, 6]);
    expect(parseDate('6/12/2025')).toBeNull();
  });

  it('formats short dates by locale, with the year only when it differs', () => {
    const now = new Date(2025, 10, 22);
    expect(shortDate('2025-12-06', 'en-GB', now)).toBe('6 Dec');
    expect(shortDate('2025-12-06', 'en-US', now)).toBe('Dec 6');
    expect(shortDate('2026-01-03', 'en-GB', now)).toBe('3 Jan 2026');
  });

  it('knows overdue from due today', () => {
    expect(isOverdue('2025-11-21', '2025-11-22')).toBe(true);
    expect(isOverdue('2025-11-22', '2025-11-22')).toBe(false);
    expect(todayISO(new Date(2025, 0, 5))).toBe('2025-01-05');
    expect(daysBetween('2025-11-22', '2025-12-06')).toBe(14);
  });
});

describe('numbers and money', () => {
  it('groups digits by locale', () => {
    expect(num(1000, 'en-US')).toBe('1,000');
    expect(num(1000, 'de-DE')).toBe('1.000');
  });

  it('parses prices to cents and formats them back', () => {
    expect(parsePriceCents('12.5')).toBe(1250);
    expect(parsePriceCents('12,05')).toBe(1205);
    expect(parsePriceCents(' ')).toBeNull();
    expect(parsePriceCents('12.345')).toBeNaN();
    expect(money(1250, 'EUR', 'en-GB')).toBe('€12.50');
  });
});

describe('form drafts', () => {
  it('splits comma lists, trimming and dropping duplicates', () => {
    expect(splitList(' sf, Classics ,, sf ,classics')).toEqual(['sf', 'Classics']);
  });

  it('turns a title form into a draft with nulls for empty fields', () => {
    const f = titleForm(null);
    f.title = '  Dune ';
    f.isbn = '978-0-441-17271-9';
    f.contributors = [{ name: 'Frank Herbert', role: 'author' }, { name: ' ', role: 'editor' }];
    f.subjects = 'Science fiction, Deserts';
    f.pages = '412';
    const { draft, errors } = titleDraft(f);
    expect(errors).toEqual({});
    expect(draft).toMatchObject({
      title: 'Dune',
      isbn: '978-0-441-17271-9',
      contributors: [{ name: 'Frank Herbert', role: 'author' }],
      subjects: ['Science fiction', 'Deserts'],
      tags: [],
      pages: 412,
      subtitle: null,
      published: null,
    });
  });

  it('stops at the pages field when it is not a number', () => {
    const f = titleForm(null);
    f.title = 'Dune';
    f.pages = 'many';
    const { draft, errors } = titleDraft(f);
    expect(draft).toBeNull();
    expect(Object.keys(errors)).toEqual(['pages']);
  });

  it('turns a price into cents and upper-cases the currency', () => {
    const f = copyForm(null);
    f.barcode = ' C1 ';
    f.price = '9.99';
    f.currency = 'eur';
    expect(copyDraft(f).draft).toMatchObject({ barcode: 'C1', price_cents: 999, currency: 'EUR', location: null });
    f.price = 'abc';
    expect(copyDraft(f).errors).toHaveProperty('price');
  });
});

describe('usableLocale', () => {
  it('falls back to English for POSIX locales WebKitGTK reports under LANG=C', () => {
    expect(usableLocale('C')).toBe('en');
    expect(usableLocale('POSIX')).toBe('en');
    expect(usableLocale(undefined)).toBe('en');
  });
  it('keeps and normalises real tags', () => {
    expect(usableLocale('fr-FR')).toBe('fr-FR');
    expect(usableLocale('en_GB')).toBe('en-GB');
  });
});
