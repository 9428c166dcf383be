// Global keyboard shortcuts, decided by a pure function (tests in
// __tests__/shortcuts.test.ts).

export type ShortcutAction =
  | { kind: 'nav'; index: number }
  | { kind: 'focus-search' }
  | { kind: 'help' }
  | { kind: 'desk-mode'; mode: 'checkout' | 'checkin' };

export type KeyLike = {
  key: string;
  ctrlKey: boolean;
  metaKey: boolean;
  altKey: boolean;
  shiftKey: boolean;
};

/** Typing in a field: single-key shortcuts ("/", "?") must not fire. */
export function isEditable(target: EventTarget | null): boolean {
  if (!target || typeof (target as HTMLElement).tagName !== 'string') return false;
  const el = target as HTMLElement;
  const tag = el.tagName.toLowerCase();
  if (tag === 'textarea' || tag === 'select') return true;
  if (tag === 'input') {
    const type = ((el as HTMLInputElement).type || 'text').toLowerCase();
    return !['checkbox', 'radio', 'button', 'submit', 'reset', 'range', 'color', 'file'].includes(type);
  }
  return el.isContentEditable === true;
}

export function matchShortcut(e: KeyLike, editing: boolean): ShortcutAction | null {
  const mod = e.ctrlKey || e.metaKey;
  if (mod && !e.altKey && !e.shiftKey && /^[1-9]$/.test(e.key)) return { kind: 'nav', index: Number(e.key) - 1 };
  if (mod && !e.altKey && (e.key === 'k' || e.key === 'K')) return { kind: 'focus-search' };
  if (!mod && !e.altKey && e.key === 'F2') return { kind: 'desk-mode', mode: 'checkout' };
  if (!mod && !e.altKey && e.key === 'F3') return { kind: 'desk-mode', mode: 'checkin' };
  if (editing || mod || e.altKey) return null;
  if (e.key === '/') return { kind: 'focus-search' };
  if (e.key === '?') return { kind: 'help' };
  return null;
}
