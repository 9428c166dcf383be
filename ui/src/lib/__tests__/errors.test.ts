import { describe, expect, it } from 'vitest';
import { errorMessage, mapFormError, toErrorPayload } from '../errors';
import { COPY_ALIASES, COPY_FIELDS, MEMBER_FIELDS, TITLE_FIELDS } from '../drafts';

describe('toErrorPayload', () => {
  it('passes {code, message} through', () => {
    expect(toErrorPayload({ code: 'copy_lost', message: 'copy C1 is marked lost' })).toEqual({ code: 'copy_lost', message: 'copy C1 is marked lost' });
  });

  it('never yields "undefined" or a stack', () => {
    for (const e of [undefined, null, {}, { code: 'x' }, { message: '' }, 42]) {
      const p = toErrorPayload(e);
      expect(p.message).not.toMatch(/undefined|null/);
      expect(p.message.length).toBeGreaterThan(0);
    }
    const err = new Error('connection refused');
    expect(toErrorPayload(err)).toEqual({ code: 'unexpected', message: 'connection refused' });
    expect(toErrorPayload('boom\n  at x.js:1')).toEqual({ code: 'unexpected', message: 'boom' });
  });

  it('capitalises the message for display', () => {
    expect(errorMessage({ code: 'invalid_credentials', message: 'wrong username or password' })).toBe('Wrong username or password');
  });
});

describe('mapFormError', () => {
  it('puts an "invalid" error at the field named before the colon', () => {
    const m = mapFormError({ code: 'invalid', message: "published: '20x1' is not a date; use YYYY, YYYY-MM or YYYY-MM-DD" }, TITLE_FIELDS);
    expect(m).toEqual({ fields: { published: "'20x1' is not a date; use YYYY, YYYY-MM or YYYY-MM-DD" }, general: null });
  });

  it('reads "is required" with the field label', () => {
    const m = mapFormError({ code: 'invalid', message: 'title: is required' }, TITLE_FIELDS, {}, { title: 'Title' });
    expect(m.fields).toEqual({ title: 'Title is required' });
  });

  it('puts ISBN errors at the isbn field', () => {
    const checksum = mapFormError({ code: 'isbn_checksum', message: "'9780441172710' is not a valid ISBN: the check digit should be 9" }, TITLE_FIELDS);
    expect(checksum.fields.isbn).toBe("'9780441172710' is not a valid ISBN: the check digit should be 9");
    expect(checksum.general).toBeNull();
    const invalid = mapFormError({ code: 'invalid_isbn', message: "'abc' is not a valid ISBN: too short" }, TITLE_FIELDS);
    expect(Object.keys(invalid.fields)).toEqual(['isbn']);
  });

  it('maps server field names to the form through aliases', () => {
    const m = mapFormError({ code: 'invalid', message: 'price_cents: cannot be negative' }, COPY_FIELDS, COPY_ALIASES, { price: 'Price' });
    expect(m.fields).toEqual({ price: 'Price cannot be negative' });
  });

  it('puts duplicate card and barcode errors at their fields', () => {
    expect(mapFormError({ code: 'duplicate_card', message: 'card M1 is already used by another member' }, MEMBER_FIELDS).fields).toEqual({
      card: 'Card M1 is already used by another member',
    });
    expect(Object.keys(mapFormError({ code: 'duplicate_barcode', message: 'barcode B1 is already used' }, COPY_FIELDS).fields)).toEqual(['barcode']);
  });

  it('keeps an error for an unknown field, or any other code, as a general error', () => {
    expect(mapFormError({ code: 'invalid', message: 'cursor: belongs to another sort order' }, TITLE_FIELDS)).toEqual({
      fields: {},
      general: 'Cursor: belongs to another sort order',
    });
    expect(mapFormError({ code: 'permission_denied', message: 'you need the librarian role to edit the catalogue' }, TITLE_FIELDS)).toEqual({
      fields: {},
      general: 'You need the librarian role to edit the catalogue',
    });
    expect(mapFormError({ code: 'isbn_checksum', message: 'bad' }, MEMBER_FIELDS).general).toBe('Bad');
  });

  it('maps a weak password to the password field', () => {
    const m = mapFormError({ code: 'weak_password', message: 'password: is too common' }, ['username', 'password'], {}, { password: 'Password' });
    expect(m.fields).toEqual({ password: 'Password is too common' });
  });
});
