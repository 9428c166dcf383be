// Search as you type: the first keystroke searches at once (no debounce: a
// search costs a few milliseconds, waiting would be most of the latency);
// while one typed search is on its way, newer text waits and only the newest
// is sent when it returns. Answers that arrive after a newer request was made
// are dropped. Pages on with the cursor, and asks for facets once the
// results have stood still for a moment, so facet counting never delays the
// next keystroke's results. Framework-free: the component subscribes with
// `onChange` (tests in __tests__/search.test.ts).
import type { Facets, Filters, SearchPage, SearchRequest, SortOrder, TitleHit } from './types';
import { toErrorPayload } from './errors';

export type Query = { text: string; filters: Filters; sort: SortOrder };

export const emptyFilters = (): Filters => ({
  subject: null,
  tag: null,
  language: null,
  year_from: null,
  year_to: null,
  available: false,
  location: null,
});

export function hasFilters(f: Filters): boolean {
  return (
    f.subject !== null ||
    f.tag !== null ||
    f.language !== null ||
    f.year_from !== null ||
    f.year_to !== null ||
    f.available ||
    f.location !== null
  );
}

export type SearchState = {
  query: Query;
  hits: TitleHit[];
  total: { value: number; exact: boolean } | null;
  nextCursor: string | null;
  /** The first page of the current query is on its way. */
  loading: boolean;
  loadingMore: boolean;
  error: string | null;
  facets: Facets | null;
  /** The facets belong to an earlier query; fresh ones are on their way. */
  facetsStale: boolean;
  /** Increases with each new query: lets a list reset its scroll and selection. */
  generation: number;
};

export type SearchDeps = {
  search: (r: SearchRequest) => Promise<SearchPage>;
  facets?: (r: SearchRequest) => Promise<Facets>;
  /** How long results must stand still before facets are asked for. */
  facetsDelay?: number;
  pageSize?: number;
  setTimer?: (fn: () => void, ms: number) => unknown;
  clearTimer?: (handle: unknown) => void;
};

export class SearchController {
  private deps: Required<Omit<SearchDeps, 'facets'>> & Pick<SearchDeps, 'facets'>;
  private timer: unknown = null; // the facets timer
  private seq = 0; // id of the newest first-page request
  private inFlight = false; // a typed search is on its way
  private pending: Query | null = null; // typed while it was
  private listeners = new Set<(s: SearchState) => void>();
  state: SearchState;

  constructor(deps: SearchDeps, initial: Query) {
    this.deps = {
      facetsDelay: 250,
      pageSize: 100,
      setTimer: (fn, ms) => setTimeout(fn, ms),
      clearTimer: (h) => clearTimeout(h as ReturnType<typeof setTimeout>),
      ...deps,
    };
    this.state = {
      query: initial,
      hits: [],
      total: null,
      nextCursor: null,
      loading: false,
      loadingMore: false,
      error: null,
      facets: null,
      facetsStale: false,
      generation: 0,
    };
  }

  onChange(fn: (s: SearchState) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  private set(patch: Partial<SearchState>) {
    this.state = { ...this.state, ...patch };
    for (const fn of this.listeners) fn(this.state);
  }

  private request(q: Query, cursor: string | null): SearchRequest {
    return { text: q.text, filters: q.filters, sort: q.sort, cursor, limit: this.deps.pageSize };
  }

  /** A new query (typing): runs at once, or as soon as the search on its way returns. */
  schedule(q: Query) {
    this.cancelTimer();
    this.set({ query: q });
    if (this.inFlight) {
      this.pending = q;
      return;
    }
    void this.typed(q);
  }

  private async typed(q: Query) {
    this.inFlight = true;
    try {
      await this.run(q);
    } finally {
      this.inFlight = false;
    }
    const next = this.pending;
    this.pending = null;
    if (next) void this.typed(next);
  }

  /** Run a query now (filters, sort, refresh after an edit). */
  now(q: Query = this.state.query) {
    this.cancelTimer();
    this.pending = null;
    this.set({ query: q });
    return this.run(q);
  }

  private cancelTimer() {
    if (this.timer !== null) {
      this.deps.clearTimer(this.timer);
      this.timer = null;
    }
  }

  private async run(q: Query) {
    const id = ++this.seq;
    this.set({ loading: true, loadingMore: false, error: null });
    let page: SearchPage;
    try {
      page = await this.deps.search(this.request(q, null));
    } catch (e) {
      if (id !== this.seq || this.pending) return;
      this.set({ loading: false, error: toErrorPayload(e).message, hits: [], total: null, nextCursor: null, facets: null, generation: this.state.generation + 1 });
      return;
    }
    // A newer query was sent meanwhile, or typed and waiting to be sent.
    if (id !== this.seq || this.pending) return;
    this.set({
      loading: false,
      hits: page.hits,
      total: page.total,
      nextCursor: page.next_cursor,
      facetsStale: this.state.facets !== null,
      generation: this.state.generation + 1,
    });
    const facets = this.deps.facets;
    if (!facets) return;
    this.timer = this.deps.setTimer(() => {
      this.timer = null;
      facets(this.request(q, null))
        .then((f) => {
          if (id === this.seq) this.set({ facets: f, facetsStale: false });
        })
        .catch(() => {
          // Facets are a help, not the answer: keep the last ones.
        });
    }, this.deps.facetsDelay);
  }

  /** Fetch the next page (the list scrolled near its end). Ignored while one is on its way. */
  async loadMore() {
    const cursor = this.state.nextCursor;
    if (cursor === null || this.state.loadingMore || this.state.loading) return;
    const id = this.seq;
    const q = this.state.query;
    this.set({ loadingMore: true });
    try {
      const page = await this.deps.search(this.request(q, cursor));
      if (id !== this.seq) return;
      this.set({ hits: this.state.hits.concat(page.hits), nextCursor: page.next_cursor, loadingMore: false });
    } catch (e) {
      if (id !== this.seq) return;
      this.set({ loadingMore: false, error: toErrorPayload(e).message });
    }
  }

  dispose() {
    this.cancelTimer();
    this.seq++;
    this.listeners.clear();
  }
}
