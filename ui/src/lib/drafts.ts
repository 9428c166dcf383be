// Form values (strings, as typed) <-> the drafts the commands take.
// Empty optional fields become null; lists are comma-separated.
import type { Contributor, Copy, CopyDraft, Member, MemberDraft, Title, TitleDraft } from './types';
import { centsToInput, parsePriceCents } from './format';
import { t } from './strings';
import type { FieldErrors } from './errors';

export const opt = (s: string): string | null => {
  const v = s.trim();
  return v === '' ? null : v;
};

export function splitList(s: string): string[] {
  const seen = new Set<string>();
  const out: string[] = [];
  for (const part of s.split(',')) {
    const v = part.trim();
    if (v !== '' && !seen.has(v.toLowerCase())) {
      seen.add(v.toLowerCase());
      out.push(v);
    }
  }
  return out;
}

export const joinList = (xs: string[]): string => xs.join(', ');

// --- titles ---

export type TitleForm = {
  isbn: string;
  title: string;
  subtitle: string;
  contributors: Contributor[];
  subjects: string;
  tags: string;
  series: string;
  series_number: string;
  language: string;
  publisher: string;
  published: string;
  pages: string;
  lccn: string;
  call_number: string;
  notes: string;
  cover_ref: string | null;
};

export const TITLE_FIELDS = [
  'isbn', 'title', 'subtitle', 'contributors', 'subjects', 'tags', 'series', 'series_number',
  'language', 'publisher', 'published', 'pages', 'lccn', 'call_number', 'notes',
] as const;

export function titleForm(x: Title | null): TitleForm {
  return {
    isbn: x?.isbn13 ?? x?.isbn10 ?? '',
    title: x?.title ?? '',
    subtitle: x?.subtitle ?? '',
    contributors: x ? x.contributors.map((c) => ({ ...c })) : [{ name: '', role: t.titleForm.defaultRole }],
    subjects: joinList(x?.subjects ?? []),
    tags: joinList(x?.tags ?? []),
    series: x?.series ?? '',
    series_number: x?.series_number ?? '',
    language: x?.language ?? '',
    publisher: x?.publisher ?? '',
    published: x?.published ?? '',
    pages: x?.pages != null ? String(x.pages) : '',
    lccn: x?.lccn ?? '',
    call_number: x?.call_number ?? '',
    notes: x?.notes ?? '',
    cover_ref: x?.cover_ref ?? null,
  };
}

/** The form for a new title pre-filled from a draft (an ISBN look-up). */
export function formFromDraft(d: TitleDraft): TitleForm {
  return {
    isbn: d.isbn ?? '',
    title: d.title,
    subtitle: d.subtitle ?? '',
    contributors: d.contributors.length > 0 ? d.contributors.map((c) => ({ ...c })) : [{ name: '', role: t.titleForm.defaultRole }],
    subjects: joinList(d.subjects),
    tags: joinList(d.tags),
    series: d.series ?? '',
    series_number: d.series_number ?? '',
    language: d.language ?? '',
    publisher: d.publisher ?? '',
    published: d.published ?? '',
    pages: d.pages != null ? String(d.pages) : '',
    lccn: d.lccn ?? '',
    call_number: d.call_number ?? '',
    notes: d.notes ?? '',
    cover_ref: null,
  };
}

export function titleDraft(f: TitleForm): { draft: TitleDraft | null; errors: FieldErrors } {
  const errors: FieldErrors = {};
  let pages: number | null = null;
  if (f.pages.trim() !== '') {
    pages = Number(f.pages.trim());
    if (!Number.isInteger(pages)) errors.pages = t.titleForm.pagesInvalid;
  }
  if (Object.keys(errors).length > 0) return { draft: null, errors };
  return {
    errors,
    draft: {
      title: f.title.trim(),
      subtitle: opt(f.subtitle),
      contributors: f.contributors
        .map((c) => ({ name: c.name.trim(), role: c.role.trim() || t.titleForm.defaultRole }))
        .filter((c) => c.name !== ''),
      subjects: splitList(f.subjects),
      tags: splitList(f.tags),
      series: opt(f.series),
      series_number: opt(f.series_number),
      language: opt(f.language),
      publisher: opt(f.publisher),
      published: opt(f.published),
      pages,
      isbn: opt(f.isbn),
      lccn: opt(f.lccn),
      call_number: opt(f.call_number),
      notes: opt(f.notes),
      cover_ref: f.cover_ref,
    },
  };
}

// --- copies ---

export type CopyForm = {
  barcode: string;
  location: string;
  shelf: string;
  condition: string;
  acquired_on: string;
  price: string;
  currency: string;
  provenance: string;
  notes: string;
};

export const COPY_FIELDS = ['barcode', 'location', 'shelf', 'condition', 'acquired_on', 'price', 'currency', 'provenance', 'notes'] as const;
/** Server field names that differ from the form's. */
export const COPY_ALIASES: Record<string, string> = { price_cents: 'price' };

export function copyForm(x: Copy | null): CopyForm {
  return {
    barcode: x?.barcode ?? '',
    location: x?.location ?? '',
    shelf: x?.shelf ?? '',
    condition: x?.condition ?? '',
    acquired_on: x?.acquired_on ?? '',
    price: centsToInput(x?.price_cents ?? null),
    currency: x?.currency ?? '',
    provenance: x?.provenance ?? '',
    notes: x?.notes ?? '',
  };
}

export function copyDraft(f: CopyForm): { draft: CopyDraft | null; errors: FieldErrors } {
  const errors: FieldErrors = {};
  const price = parsePriceCents(f.price);
  if (price !== null && Number.isNaN(price)) errors.price = t.copyForm.priceInvalid;
  if (Object.keys(errors).length > 0) return { draft: null, errors };
  return {
    errors,
    draft: {
      barcode: f.barcode.trim(),
      location: opt(f.location),
      shelf: opt(f.shelf),
      condition: opt(f.condition),
      acquired_on: opt(f.acquired_on),
      price_cents: price,
      currency: opt(f.currency)?.toUpperCase() ?? null,
      provenance: opt(f.provenance),
      notes: opt(f.notes),
    },
  };
}

// --- members ---

export type MemberForm = {
  card: string;
  name: string;
  email: string;
  phone: string;
  address: string;
  member_type: string;
  expires_on: string;
  notes: string;
};

export const MEMBER_FIELDS = ['card', 'name', 'email', 'phone', 'address', 'member_type', 'expires_on', 'notes'] as const;

export function memberForm(x: Member | null, defaultType = ''): MemberForm {
  return {
    card: x?.card ?? '',
    name: x?.name ?? '',
    email: x?.email ?? '',
    phone: x?.phone ?? '',
    address: x?.address ?? '',
    member_type: x?.member_type ?? defaultType,
    expires_on: x?.expires_on ?? '',
    notes: x?.notes ?? '',
  };
}

export function memberDraft(f: MemberForm): MemberDraft {
  return {
    card: f.card.trim(),
    name: f.name.trim(),
    email: opt(f.email),
    phone: opt(f.phone),
    address: opt(f.address),
    member_type: f.member_type.trim(),
    expires_on: opt(f.expires_on),
    notes: opt(f.notes),
  };
}
