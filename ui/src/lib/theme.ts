// Light and dark themes through CSS custom properties (app.css). The setting
// is 'system' (follow prefers-color-scheme), 'light' or 'dark', kept in
// localStorage.

export type ThemeSetting = 'system' | 'light' | 'dark';
export const THEME_KEY = 'shelfkeeper.theme';
const SETTINGS: ThemeSetting[] = ['system', 'light', 'dark'];

export function loadTheme(storage: Pick<Storage, 'getItem'> | null = safeStorage()): ThemeSetting {
  const v = storage?.getItem(THEME_KEY);
  return SETTINGS.includes(v as ThemeSetting) ? (v as ThemeSetting) : 'system';
}

export function saveTheme(v: ThemeSetting, storage: Pick<Storage, 'setItem'> | null = safeStorage()) {
  try {
    storage?.setItem(THEME_KEY, v);
  } catch {
    /* storage full or disabled: the theme still applies for this session */
  }
}

export function resolveTheme(setting: ThemeSetting, prefersDark: boolean): 'light' | 'dark' {
  if (setting === 'system') return prefersDark ? 'dark' : 'light';
  return setting;
}

function safeStorage(): Storage | null {
  try {
    return typeof localStorage !== 'undefined' ? localStorage : null;
  } catch {
    return null;
  }
}

let unwatch: (() => void) | null = null;

/** Apply the setting to <html data-theme>, following the system while it is 'system'. */
export function applyTheme(setting: ThemeSetting, doc: Document = document) {
  unwatch?.();
  unwatch = null;
  const mq = typeof matchMedia === 'function' ? matchMedia('(prefers-color-scheme: dark)') : null;
  const set = () => {
    doc.documentElement.dataset.theme = resolveTheme(setting, mq?.matches ?? false);
  };
  set();
  if (setting === 'system' && mq) {
    mq.addEventListener('change', set);
    unwatch = () => mq.removeEventListener('change', set);
  }
}
