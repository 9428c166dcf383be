#!/usr/bin/env node
// Writes the update manifest (`latest.json`) that the desktop's updater reads
// from its endpoint, from signed bundles (each with the `.sig` file that
// `tauri build` writes beside it when TAURI_SIGNING_PRIVATE_KEY is set):
//
//   node scripts/release-manifest.mjs --version 0.2.0 \
//     --base-url https://releases.shelfkeeper.org/desktop/0.2.0 \
//     [--notes TEXT]  (default: the version's section of CHANGELOG.md) \
//     [--out latest.json] BUNDLE...
//
// Each bundle becomes a platform entry `{os}-{arch}-{installer}` (the key the
// updater looks for first): .deb → linux-x86_64-deb, .rpm → linux-x86_64-rpm,
// .AppImage → linux-x86_64-appimage, .msi → windows-x86_64-msi, -setup.exe →
// windows-x86_64-nsis, .app.tar.gz → darwin-<arch>-app. The URL of a bundle is
// base-url + its file name.
import { readFileSync, writeFileSync } from 'node:fs';
import { basename } from 'node:path';

const args = process.argv.slice(2);
const opts = { files: [] };
for (let i = 0; i < args.length; i++) {
  const a = args[i];
  if (a === '--version' || a === '--base-url' || a === '--notes' || a === '--out' || a === '--pub-date') opts[a.slice(2)] = args[++i];
  else opts.files.push(a);
}
if (!opts.version || !opts['base-url'] || opts.files.length === 0) {
  console.error('usage: release-manifest.mjs --version V --base-url URL [--notes TEXT] [--out FILE] BUNDLE...');
  process.exit(2);
}

/** The body of `## [version]` in CHANGELOG.md, without its heading. */
export function changelogSection(text, version) {
  const lines = text.split('\n');
  const start = lines.findIndex((l) => l.startsWith(`## [${version}]`));
  if (start < 0) return null;
  const end = lines.findIndex((l, i) => i > start && (l.startsWith('## [') || /^\[[^\]]+\]: /.test(l)));
  return lines.slice(start + 1, end < 0 ? undefined : end).join('\n').trim();
}

function arch(name) {
  if (/(aarch64|arm64)/.test(name)) return 'aarch64';
  if (/(armv7|armhf)/.test(name)) return 'armv7';
  if (/(i686|i386|x86(?!_64))/.test(name)) return 'i686';
  return 'x86_64';
}

function platform(name) {
  const a = arch(name);
  if (name.endsWith('.deb')) return `linux-${a}-deb`;
  if (name.endsWith('.rpm')) return `linux-${a}-rpm`;
  if (name.endsWith('.AppImage') || name.endsWith('.AppImage.tar.gz')) return `linux-${a}-appimage`;
  if (name.endsWith('.msi')) return `windows-${a}-msi`;
  if (name.endsWith('-setup.exe')) return `windows-${a}-nsis`;
  if (name.endsWith('.app.tar.gz')) return `darwin-${a}-app`;
  throw new Error(`no updater platform for ${name}`);
}

let notes = opts.notes;
if (notes === undefined) {
  notes = changelogSection(readFileSync(new URL('../CHANGELOG.md', import.meta.url), 'utf8'), opts.version);
  if (notes === null) throw new Error(`CHANGELOG.md has no section for ${opts.version}: write the release notes first`);
}
const base = opts['base-url'].replace(/\/+$/, '');
const platforms = {};
for (const file of opts.files) {
  const name = basename(file);
  const signature = readFileSync(`${file}.sig`, 'utf8').trim();
  platforms[platform(name)] = { signature, url: `${base}/${encodeURIComponent(name)}` };
}
const manifest = {
  version: opts.version,
  notes,
  pub_date: opts['pub-date'] ?? new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'),
  platforms,
};
const json = JSON.stringify(manifest, null, 2) + '\n';
if (opts.out) writeFileSync(opts.out, json);
else process.stdout.write(json);
