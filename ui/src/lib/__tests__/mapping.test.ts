import { describe, expect, it } from 'vitest';
import { FIELD_TARGETS, fieldFor, targetOf } from '../mapping';

describe('column mapping', () => {
  it('offers every target once, ignore first', () => {
    expect(FIELD_TARGETS[0]).toBe('ignore');
    expect(new Set(FIELD_TARGETS).size).toBe(FIELD_TARGETS.length);
    expect(FIELD_TARGETS).toContain('isbn');
    expect(FIELD_TARGETS).toContain('barcode');
  });

  it('builds fields with the options the reader needs', () => {
    expect(fieldFor('authors')).toEqual({ to: 'authors', separator: null });
    expect(fieldFor('tags')).toEqual({ to: 'tags', separator: null, escaped: false, skip: [] });
    expect(targetOf(fieldFor('published'))).toBe('published');
  });

  it('hands out copies, so editing one mapping does not change the defaults', () => {
    const a = fieldFor('tags') as { skip: string[] };
    a.skip.push('to-read');
    expect(fieldFor('tags')).toEqual({ to: 'tags', separator: null, escaped: false, skip: [] });
  });
});
