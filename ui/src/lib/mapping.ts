// Column mapping for CSV imports: what a column can feed, and a field with
// the reader's default options for each target (the Rust `Field` type,
// generated into bindings/Field.ts, is the source of truth; the `satisfies`
// below fails the type check if a target is added there and not here).
import type { Field } from './types';

export type FieldTarget = Field['to'];

const DEFAULTS = {
  title: { to: 'title', series_in_parentheses: false },
  subtitle: { to: 'subtitle' },
  authors: { to: 'authors', separator: null },
  additional_authors: { to: 'additional_authors', separator: null },
  author_roles: { to: 'author_roles', separator: null },
  additional_author_roles: { to: 'additional_author_roles', separator: null },
  contributor: { to: 'contributor', role: 'editor', separator: null },
  contributors: { to: 'contributors' },
  isbn: { to: 'isbn' },
  isbn13: { to: 'isbn13' },
  isbn10: { to: 'isbn10' },
  identifiers: { to: 'identifiers' },
  publisher: { to: 'publisher' },
  publication_statement: { to: 'publication_statement' },
  published: { to: 'published', day_first: false },
  pages: { to: 'pages' },
  language: { to: 'language' },
  series: { to: 'series' },
  series_number: { to: 'series_number' },
  series_index: { to: 'series_index' },
  subjects: { to: 'subjects', separator: null, escaped: false },
  tags: { to: 'tags', separator: null, escaped: false, skip: [] },
  lccn: { to: 'lccn' },
  call_number: { to: 'call_number' },
  notes: { to: 'notes' },
  barcode: { to: 'barcode' },
  location: { to: 'location' },
  shelf: { to: 'shelf' },
  condition: { to: 'condition' },
  acquired_on: { to: 'acquired_on', day_first: false },
  price: { to: 'price' },
  price_cents: { to: 'price_cents' },
  currency: { to: 'currency' },
  provenance: { to: 'provenance' },
  copy_notes: { to: 'copy_notes' },
  copies_count: { to: 'copies_count' },
  reading_state: { to: 'reading_state', other_as_tag: false },
  rating: { to: 'rating', out_of: null },
  review: { to: 'review' },
  source_key: { to: 'source_key' },
  title_id: { to: 'title_id' },
  ignore: { to: 'ignore' },
} satisfies { [K in FieldTarget]: Extract<Field, { to: K }> };

/** Every target, in the order the column menus list them ("ignore" first). */
export const FIELD_TARGETS: FieldTarget[] = ['ignore', ...(Object.keys(DEFAULTS) as FieldTarget[]).filter((k) => k !== 'ignore')];

/** A field for `target` with the reader's default options. */
export function fieldFor(target: FieldTarget): Field {
  return structuredClone(DEFAULTS[target]) as Field;
}

export function targetOf(field: Field): FieldTarget {
  return field.to;
}
