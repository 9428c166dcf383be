// Where the webview loads a title's cover from: the shell's `cover` URI
// scheme, which serves the image from the store (see src-tauri/src/lib.rs).
// Only stored covers (`cover:<uuid>`) have a URL; nothing remote is loaded.
import { convertFileSrc } from '@tauri-apps/api/core';

const STORED = /^cover:([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/i;

export function coverUrl(coverRef: string | null | undefined): string | null {
  const m = coverRef ? STORED.exec(coverRef) : null;
  // convertFileSrc knows the platform's form: cover://localhost/<id>, or
  // http://cover.localhost/<id> on Windows.
  return m ? convertFileSrc(m[1].toLowerCase(), 'cover') : null;
}
