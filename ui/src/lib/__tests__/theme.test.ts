// @vitest-environment jsdom
import { afterEach, describe, expect, it, vi } from 'vitest';
import { applyTheme, loadTheme, resolveTheme, saveTheme, THEME_KEY } from '../theme';

function fakeMatchMedia(dark: boolean) {
  const listeners = new Set<() => void>();
  const mq = {
    matches: dark,
    addEventListener: (_: string, fn: () => void) => listeners.add(fn),
    removeEventListener: (_: string, fn: () => void) => listeners.delete(fn),
  };
  vi.stubGlobal('matchMedia', () => mq);
  return {
    set(d: boolean) {
      mq.matches = d;
      listeners.forEach((fn) => fn());
    },
    listeners,
  };
}

afterEach(() => {
  vi.unstubAllGlobals();
  localStorage.clear();
});

describe('theme', () => {
  it('defaults to following the system and remembers a choice', () => {
    expect(loadTheme()).toBe('system');
    saveTheme('dark');
    expect(localStorage.getItem(THEME_KEY)).toBe('dark');
    expect(loadTheme()).toBe('dark');
    localStorage.setItem(THEME_KEY, 'purple');
    expect(loadTheme()).toBe('system');
  });

  it('resolves system to the preferred scheme', () => {
    expect(resolveTheme('system', true)).toBe('dark');
    expect(resolveTheme('system', false)).toBe('light');
    expect(resolveTheme('light', true)).toBe('light');
  });

  it('follows the system while set to system, and stops when a theme is chosen', () => {
    const mm = fakeMatchMedia(false);
    applyTheme('system');
    expect(document.documentElement.dataset.theme).toBe('light');
    mm.set(true);
    expect(document.documentElement.dataset.theme).toBe('dark');
    applyTheme('light');
    expect(mm.listeners.size).toBe(0);
    mm.set(true);
    expect(document.documentElement.dataset.theme).toBe('light');
  });
});
