import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Facets, SearchPage, SearchRequest, TitleHit } from '../types';

vi.mock('../api', () => ({
  search: vi.fn(),
  facets: vi.fn(),
}));

import * as api from '../api';
import { SearchController, emptyFilters, hasFilters, type Query } from '../search';
import { deferred } from './fixtures';

const search = vi.mocked(api.search);
const facets = vi.mocked(api.facets);

function hit(id: string, title = id): TitleHit {
  return { id, title, subtitle: null, authors: [], year: null, isbn13: null, language: null, copy_count: 1, available_count: 1, cover_ref: null };
}

function page(ids: string[], next: string | null = null, total = ids.length, exact = true): SearchPage {
  return { hits: ids.map((i) => hit(i)), next_cursor: next, total: { value: total, exact } };
}

const noFacets: Facets = { subjects: [], tags: [], languages: [], decades: [], locations: [], available: 0, sample: 0, exact: true };

const q = (text: string, over: Partial<Query> = {}): Query => ({ text, filters: emptyFilters(), sort: 'relevance', ...over });

function controller() {
  return new SearchController({ search: api.search, facets: api.facets, pageSize: 50 }, q(''));
}

beforeEach(() => {
  vi.useFakeTimers();
  search.mockReset();
  facets.mockReset();
  facets.mockResolvedValue(noFacets);
});

afterEach(() => {
  vi.useRealTimers();
});

describe('search as you type', () => {
  it('searches at the first keystroke, then only the newest text once the answer is in', async () => {
    const first = deferred<SearchPage>();
    search.mockReturnValueOnce(first.promise).mockResolvedValueOnce(page(['dune']));
    const c = controller();
    c.schedule(q('d'));
    expect(search).toHaveBeenCalledTimes(1); // no debounce
    c.schedule(q('du'));
    c.schedule(q('dune'));
    expect(search).toHaveBeenCalledTimes(1); // one typed search at a time
    first.resolve(page(['dark', 'dusk']));
    await vi.advanceTimersByTimeAsync(0);
    expect(search).toHaveBeenCalledTimes(2);
    expect(search.mock.calls[1][0] as SearchRequest).toEqual({ text: 'dune', filters: emptyFilters(), sort: 'relevance', cursor: null, limit: 50 });
    await vi.runAllTimersAsync();
    // the answer for 'd' was never shown: newer text was already waiting
    expect(c.state.hits.map((h) => h.id)).toEqual(['dune']);
    expect(c.state.query.text).toBe('dune');
  });

  it('ignores an answer that arrives after a newer query was sent', async () => {
    const slow = deferred<SearchPage>();
    const fast = deferred<SearchPage>();
    search.mockReturnValueOnce(slow.promise).mockReturnValueOnce(fast.promise);
    const c = controller();
    const seen: string[][] = [];
    c.onChange((s) => seen.push(s.hits.map((h) => h.id)));

    c.schedule(q('du'));
    const sorted = c.now(q('dune', { sort: 'title' }));
    expect(search).toHaveBeenCalledTimes(2);

    fast.resolve(page(['dune']));
    await sorted;
    slow.resolve(page(['dust', 'duke']));
    await vi.runAllTimersAsync();

    expect(c.state.hits.map((h) => h.id)).toEqual(['dune']);
    expect(seen.some((ids) => ids.includes('dust'))).toBe(false);
    expect(c.state.loading).toBe(false);
  });

  it('asks for facets once the results stand still, for the same request, and drops stale facets', async () => {
    const order: string[] = [];
    search.mockImplementation(async (r) => {
      order.push(`search:${r.text}`);
      return page([r.text]);
    });
    const slowFacets = deferred<Facets>();
    facets.mockImplementationOnce(async (r) => {
      order.push(`facets:${r.text}`);
      return slowFacets.promise;
    });
    facets.mockImplementationOnce(async (r) => {
      order.push(`facets:${r.text}`);
      return { ...noFacets, available: 7 };
    });
    const c = controller();
    await c.now(q('old'));
    expect(order).toEqual(['search:old']); // results first, facets later
    await vi.advanceTimersByTimeAsync(249);
    expect(order).toEqual(['search:old']);
    await vi.advanceTimersByTimeAsync(1);
    expect(order).toEqual(['search:old', 'facets:old']);
    // the first facets call is still pending; a new query overtakes it
    await c.now(q('new'));
    slowFacets.resolve({ ...noFacets, available: 99 });
    await vi.runAllTimersAsync();
    expect(order).toEqual(['search:old', 'facets:old', 'search:new', 'facets:new']);
    expect(c.state.facets?.available).toBe(7);
    expect(c.state.facetsStale).toBe(false);
  });

  it('marks the facets of the previous query stale until the new ones arrive', async () => {
    search.mockImplementation(async (r) => page([r.text]));
    facets.mockImplementation(async (r) => ({ ...noFacets, available: r.text.length }));
    const c = controller();
    await c.now(q('one'));
    await vi.advanceTimersByTimeAsync(250);
    expect(c.state).toMatchObject({ facetsStale: false, facets: { available: 3 } });
    await c.now(q('three'));
    expect(c.state).toMatchObject({ facetsStale: true, facets: { available: 3 } });
    await vi.advanceTimersByTimeAsync(250);
    expect(c.state).toMatchObject({ facetsStale: false, facets: { available: 5 } });
  });

  it('never asks for facets while typing goes on', async () => {
    search.mockImplementation(async (r) => page([r.text]));
    const c = controller();
    for (const text of ['w', 'wa', 'war']) {
      c.schedule(q(text));
      await vi.advanceTimersByTimeAsync(100);
    }
    expect(facets).not.toHaveBeenCalled();
    await vi.advanceTimersByTimeAsync(250);
    expect(facets).toHaveBeenCalledTimes(1);
    expect(facets.mock.calls[0][0]).toMatchObject({ text: 'war' });
  });

  it('runs filters and sort changes at once', async () => {
    search.mockResolvedValue(page(['a']));
    const c = controller();
    const filters = { ...emptyFilters(), available: true, language: 'en' };
    const p = c.now(q('x', { filters, sort: 'title' }));
    expect(search).toHaveBeenCalledTimes(1);
    expect(search.mock.calls[0][0]).toMatchObject({ filters, sort: 'title', cursor: null });
    await p;
  });

  it('a query run now replaces typed text still waiting to be sent', async () => {
    const first = deferred<SearchPage>();
    search.mockReturnValueOnce(first.promise).mockResolvedValue(page(['a']));
    const c = controller();
    c.schedule(q('ty'));
    c.schedule(q('typed'));
    await c.now(q('typed', { sort: 'author' }));
    first.resolve(page(['t']));
    await vi.advanceTimersByTimeAsync(500);
    expect(search).toHaveBeenCalledTimes(2);
    expect(search.mock.calls[1][0]).toMatchObject({ text: 'typed', sort: 'author' });
    expect(c.state.hits.map((h) => h.id)).toEqual(['a']);
  });
});

describe('paging', () => {
  it('appends the next page with the cursor, once at a time', async () => {
    search.mockResolvedValueOnce(page(['a', 'b'], 'cur-1', 1000, false));
    const c = controller();
    await c.now(q('x'));
    expect(c.state.total).toEqual({ value: 1000, exact: false });

    const next = deferred<SearchPage>();
    search.mockReturnValueOnce(next.promise);
    const first = c.loadMore();
    void c.loadMore(); // ignored: one page at a time
    expect(search).toHaveBeenCalledTimes(2);
    expect(search.mock.calls[1][0]).toMatchObject({ text: 'x', cursor: 'cur-1' });
    next.resolve(page(['c', 'd'], null));
    await first;
    expect(c.state.hits.map((h) => h.id)).toEqual(['a', 'b', 'c', 'd']);
    expect(c.state.nextCursor).toBeNull();
    // total is kept from the first page
    expect(c.state.total).toEqual({ value: 1000, exact: false });

    await c.loadMore(); // no cursor: nothing to load
    expect(search).toHaveBeenCalledTimes(2);
  });

  it('drops a page that belongs to an older query', async () => {
    search.mockResolvedValueOnce(page(['a'], 'cur-1'));
    const c = controller();
    await c.now(q('old'));
    const late = deferred<SearchPage>();
    search.mockReturnValueOnce(late.promise);
    const more = c.loadMore();
    search.mockResolvedValueOnce(page(['n']));
    await c.now(q('new'));
    late.resolve(page(['b'], 'cur-2'));
    await more;
    expect(c.state.hits.map((h) => h.id)).toEqual(['n']);
    expect(c.state.nextCursor).toBeNull();
  });
});

describe('errors', () => {
  it('keeps the server message and clears the results', async () => {
    search.mockRejectedValueOnce({ code: 'invalid', message: 'year_to: 1990 is before 2000' });
    const c = controller();
    await c.now(q('x'));
    expect(c.state.error).toBe('year_to: 1990 is before 2000');
    expect(c.state.hits).toEqual([]);
    expect(c.state.loading).toBe(false);
  });
});

describe('hasFilters', () => {
  it('is false for the empty filters and true for any one set', () => {
    expect(hasFilters(emptyFilters())).toBe(false);
    expect(hasFilters({ ...emptyFilters(), year_to: 1990 })).toBe(true);
    expect(hasFilters({ ...emptyFilters(), available: true })).toBe(true);
  });
});
