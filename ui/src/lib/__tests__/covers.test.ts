import { describe, expect, it, vi } from 'vitest';

vi.mock('@tauri-apps/api/core', () => ({
  convertFileSrc: (path: string, protocol: string) => `${protocol}://localhost/${encodeURIComponent(path)}`,
}));

import { coverUrl } from '../covers';

describe('coverUrl', () => {
  it('points a stored cover at the cover scheme', () => {
    expect(coverUrl('cover:0193A2B4-1111-7abc-8def-0123456789ab')).toBe('cover://localhost/0193a2b4-1111-7abc-8def-0123456789ab');
  });

  it('never loads anything else: no cover, remote addresses, odd refs', () => {
    for (const ref of [null, undefined, '', 'https://covers.example/1.jpg', 'cover:../../etc/passwd', 'cover:1234', 'file:///tmp/x.png']) {
      expect(coverUrl(ref)).toBeNull();
    }
  });
});
