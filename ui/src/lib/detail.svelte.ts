// The detail of one thing shown in a side panel (a title, a member): loaded
// by key, reloaded when the key or the store changes, and only the answer to
// the newest request is kept — a slow answer for the previous selection never
// overwrites the current one.
import { errorMessage } from './errors';

export class Detail<T> {
  value = $state<T | null>(null);
  error = $state<string | null>(null);
  #seq = 0;
  readonly #fetch: (key: string) => Promise<T>;

  constructor(fetch: (key: string) => Promise<T>) {
    this.#fetch = fetch;
  }

  async load(key: string) {
    const mine = ++this.#seq;
    this.error = null;
    try {
      const value = await this.#fetch(key);
      if (mine === this.#seq) this.value = value;
    } catch (e) {
      if (mine === this.#seq) {
        this.value = null;
        this.error = errorMessage(e);
      }
    }
  }
}
