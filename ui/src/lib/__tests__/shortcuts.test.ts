import { describe, expect, it } from 'vitest';
import { matchShortcut } from '../shortcuts';

const key = (k: string, mods: Partial<{ ctrlKey: boolean; metaKey: boolean; altKey: boolean; shiftKey: boolean }> = {}) => ({
  key: k,
  ctrlKey: false,
  metaKey: false,
  altKey: false,
  shiftKey: false,
  ...mods,
});

describe('matchShortcut', () => {
  it('maps Ctrl+1..9 (and Cmd on a Mac) to sidebar places, even while typing', () => {
    expect(matchShortcut(key('1', { ctrlKey: true }), false)).toEqual({ kind: 'nav', index: 0 });
    expect(matchShortcut(key('6', { metaKey: true }), true)).toEqual({ kind: 'nav', index: 5 });
    expect(matchShortcut(key('0', { ctrlKey: true }), false)).toBeNull();
    expect(matchShortcut(key('1'), false)).toBeNull();
  });

  it('focuses the search with Ctrl+K anywhere and with "/" outside fields', () => {
    expect(matchShortcut(key('k', { ctrlKey: true }), true)).toEqual({ kind: 'focus-search' });
    expect(matchShortcut(key('/'), false)).toEqual({ kind: 'focus-search' });
    expect(matchShortcut(key('/'), true)).toBeNull();
  });

  it('opens the shortcuts sheet with "?" only outside fields', () => {
    expect(matchShortcut(key('?', { shiftKey: true }), false)).toEqual({ kind: 'help' });
    expect(matchShortcut(key('?', { shiftKey: true }), true)).toBeNull();
  });

  it('maps F2 and F3 to the desk modes', () => {
    expect(matchShortcut(key('F2'), true)).toEqual({ kind: 'desk-mode', mode: 'checkout' });
    expect(matchShortcut(key('F3'), false)).toEqual({ kind: 'desk-mode', mode: 'checkin' });
  });
});
