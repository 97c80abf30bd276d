// Paging of the server's `?page=&perpage=` listings (1-based pages, as Grafana's).

/** How many pages `total` items fill; at least 1, so an empty list is "page 1 of 1". */
export function pageCount(total: number, perPage: number): number {
  return Math.max(1, Math.ceil(total / Math.max(1, perPage)));
}

/** The page to show after the total changed (a delete can empty the last page). */
export function clampPage(page: number, total: number, perPage: number): number {
  return Math.min(Math.max(1, page), pageCount(total, perPage));
}

/** "1–30 of 75", or "0 of 0" when empty. */
export function rangeLabel(page: number, perPage: number, total: number): string {
  if (total === 0) return '0 of 0';
  const first = (page - 1) * perPage + 1;
  const last = Math.min(total, page * perPage);
  return `${first}–${last} of ${total}`;
}

/** Token lifetimes offered when adding a service account token; 0 is "never expires". */
export const TOKEN_LIFETIMES: readonly { label: string; seconds: number }[] = [
  { label: 'No expiration', seconds: 0 },
  { label: '1 day', seconds: 86_400 },
  { label: '7 days', seconds: 7 * 86_400 },
  { label: '30 days', seconds: 30 * 86_400 },
  { label: '90 days', seconds: 90 * 86_400 },
  { label: '1 year', seconds: 365 * 86_400 },
];
