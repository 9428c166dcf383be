import { describe, expect, it } from 'vitest';
import { Detail } from '../detail.svelte';
import { deferred } from './fixtures';

describe('Detail', () => {
  it('keeps only the answer to the newest request', async () => {
    const answers = new Map([
      ['a', deferred<string>()],
      ['b', deferred<string>()],
    ]);
    const d = new Detail((key: string) => answers.get(key)!.promise);
    const first = d.load('a');
    const second = d.load('b');
    answers.get('b')!.resolve('detail of b');
    await second;
    answers.get('a')!.resolve('detail of a');
    await first;
    expect(d.value).toBe('detail of b');
    expect(d.error).toBeNull();
  });

  it('shows the error of the newest request and clears the old value', async () => {
    const d = new Detail(async (key: string) => {
      if (key === 'missing') throw { code: 'not_found', message: 'no member with card M9' };
      return key;
    });
    await d.load('M1');
    expect(d.value).toBe('M1');
    await d.load('missing');
    expect(d.value).toBeNull();
    expect(d.error).toBe('No member with card M9'); // errorMessage starts a sentence
    await d.load('M2');
    expect(d.error).toBeNull();
    expect(d.value).toBe('M2');
  });

  it('ignores the failure of a superseded request', async () => {
    const slow = deferred<string>();
    let calls = 0;
    const d = new Detail((key: string) => (calls++ === 0 ? slow.promise : Promise.resolve(key)));
    const first = d.load('x');
    await d.load('y');
    slow.reject({ code: 'storage', message: 'gone' });
    await first;
    expect(d.value).toBe('y');
    expect(d.error).toBeNull();
  });
});
