/**
 * Loading more as the reader scrolls: older messages when the conversation reaches its top, more
 * chats when the chat list reaches its end. Each keeps the cursor of its next page (null once the
 * last was loaded) and loads one page at a time.
 */

/** A list that loads its next page on demand. */
export interface Pager {
  /** Starts over with the cursor of the page after the one just shown (null: nothing more). */
  reset(cursor: string | null): void;
  /** Loads the next page unless one is loading or there is none. */
  more(): Promise<void>;
  /** Whether more pages remain. */
  readonly hasMore: boolean;
}

/**
 * A pager over `load(cursor)`, which shows a page and returns the next cursor. A page that
 * arrives after a reset (another chat was opened) is dropped.
 */
export function createPager(
  load: (cursor: string) => Promise<string | null>,
  onError: (error: unknown) => void,
): Pager {
  let cursor: string | null = null;
  let loading: Promise<void> | null = null;
  let generation = 0;
  return {
    reset(next) {
      cursor = next;
      generation++;
      loading = null;
    },
    more() {
      if (loading || cursor === null) return loading ?? Promise.resolve();
      const from = cursor;
      const started = generation;
      loading = load(from)
        .then((next) => {
          if (started === generation) cursor = next;
        })
        .catch(onError)
        .finally(() => {
          if (started === generation) loading = null;
        });
      return loading;
    },
    get hasMore() {
      return cursor !== null;
    },
  };
}

/** Distance from an edge, in pixels, at which the next page starts loading. */
const EDGE_PX = 300;

/** Calls `onTop` whenever `element` is scrolled near its top. */
export function whenNearTop(element: HTMLElement, onTop: () => void): void {
  element.addEventListener('scroll', () => {
    if (element.scrollTop < EDGE_PX) onTop();
  });
}

/** Calls `onEnd` whenever `element` is scrolled near its end. */
export function whenNearEnd(element: HTMLElement, onEnd: () => void): void {
  element.addEventListener('scroll', () => {
    if (element.scrollHeight - element.scrollTop - element.clientHeight < EDGE_PX) onEnd();
  });
}
