// Why one bound for store list reads: they stay bounded when a caller passes no limit, but the
// bound must sit above every API page size plus the one extra row `offsetPage` asks for to learn
// whether a next page exists. Each store once capped at the API's own maximum (100), so a page of
// limit=100 asked for 101, got 100, and never returned a nextCursor.
export const STORE_PAGE_MAX = 1001;

export function pageLimit(limit: number | undefined, fallback: number): number {
  return Math.min(Math.max(limit ?? fallback, 1), STORE_PAGE_MAX);
}
