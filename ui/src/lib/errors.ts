// Errors from commands: normalise whatever was thrown into {code, message},
// and map form errors to the field they belong to.
import { t } from './strings';

/**
 * A command error as the UI handles it. Like the generated CommandError, but
 * `code` is any string: failures outside the domain (IPC, unknown) get
 * 'unexpected', which is no ErrorCode.
 */
export type AppError = { code: string; message: string };

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null;
}

/** Turn anything a command may reject with into {code, message}; never "undefined", never a stack. */
export function toErrorPayload(e: unknown): AppError {
  if (isRecord(e) && typeof e.code === 'string' && typeof e.message === 'string' && e.message.trim() !== '') {
    return { code: e.code, message: e.message };
  }
  if (isRecord(e) && typeof e.message === 'string' && e.message.trim() !== '') {
    // A JS Error (e.g. IPC failure): keep the first line only, never the stack.
    const first = e.message.split('\n')[0].trim();
    return { code: typeof e.code === 'string' ? e.code : 'unexpected', message: first };
  }
  if (typeof e === 'string' && e.trim() !== '') {
    return { code: 'unexpected', message: e.split('\n')[0].trim() };
  }
  return { code: 'unexpected', message: t.errors.unexpected };
}

/** The message to show for any error (always a sentence, first letter capitalised). */
export function errorMessage(e: unknown): string {
  const m = toErrorPayload(e).message;
  return m.charAt(0).toUpperCase() + m.slice(1);
}

export type FieldErrors = Record<string, string>;

/** Where a form error belongs. */
export type MappedError = { fields: FieldErrors; general: string | null };

/**
 * Map a command error to form fields.
 * - code "invalid": message "<field>: <text>"; the field goes through `aliases`
 *   (server field name -> input name) and must be one of `fields`.
 * - "invalid_isbn" / "isbn_checksum": the isbn field.
 * - a few other codes that name one field (duplicates, weak password).
 * Anything else (or an unknown field) is a general error shown above the buttons.
 */
export function mapFormError(
  e: unknown,
  fields: readonly string[],
  aliases: Record<string, string> = {},
  labels: Record<string, string> = {},
): MappedError {
  const err = toErrorPayload(e);
  const known = (f: string) => (fields.includes(f) ? f : null);
  const cap = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);
  let field: string | null = null;
  let text = err.message;
  switch (err.code) {
    case 'invalid':
    case 'weak_password': {
      const m = /^\s*([A-Za-z0-9_]+)\s*:\s*(.*)$/s.exec(err.message);
      if (m) {
        field = known(aliases[m[1]] ?? m[1]);
        if (field) text = m[2];
      }
      break;
    }
    case 'invalid_isbn':
    case 'isbn_checksum':
    case 'duplicate_isbn':
      field = known(aliases.isbn ?? 'isbn');
      break;
    case 'duplicate_barcode':
      field = known(aliases.barcode ?? 'barcode');
      break;
    case 'duplicate_card':
      field = known(aliases.card ?? 'card');
      break;
    case 'duplicate_username':
      field = known(aliases.username ?? 'username');
      break;
  }
  if (field) {
    text = text.trim();
    // "is required" reads better as "Title is required" beside the field.
    const label = labels[field];
    const shown = label && /^(is|are|must|cannot|may)\b/.test(text) ? `${label} ${text}` : cap(text);
    return { fields: { [field]: shown }, general: null };
  }
  return { fields: {}, general: cap(err.message) };
}
