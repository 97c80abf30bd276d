import { pageCount, rangeLabel } from './paging';

/** Previous / next over a paged listing, with "1–30 of 75". */
export function Pager({ page, perPage, total, onPage, testId }: { page: number; perPage: number; total: number; onPage: (page: number) => void; testId: string }) {
  const pages = pageCount(total, perPage);
  if (pages <= 1) return <p className="muted pager-label">{rangeLabel(page, perPage, total)}</p>;
  return (
    <div className="pager" data-testid={testId}>
      <button type="button" className="button" data-testid={`${testId}-prev`} disabled={page <= 1} onClick={() => onPage(page - 1)}>
        ‹ Previous
      </button>
      <span className="muted">
        {rangeLabel(page, perPage, total)} · page {page} of {pages}
      </span>
      <button type="button" className="button" data-testid={`${testId}-next`} disabled={page >= pages} onClick={() => onPage(page + 1)}>
        Next ›
      </button>
    </div>
  );
}
