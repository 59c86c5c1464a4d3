/**
 * The gallery's pager: "‹ Page 2 of 3 ›". Shown only when the tiles fill more than one
 * page (state/gallery.ts); `page` counts from 0.
 */
export function GridPager({
  page,
  pages,
  onPage,
}: {
  page: number;
  pages: number;
  onPage: (page: number) => void;
}) {
  return (
    <nav className="pager" aria-label="Video pages" data-testid="grid-pager">
      <button
        type="button"
        className="pager__step"
        aria-label="Previous page"
        title="Previous page"
        disabled={page <= 0}
        onClick={() => onPage(page - 1)}
        data-testid="grid-prev"
      >
        <span aria-hidden="true">‹</span>
      </button>
      <span className="pager__label" aria-live="polite" data-testid="grid-page">
        Page {page + 1} of {pages}
      </span>
      <button
        type="button"
        className="pager__step"
        aria-label="Next page"
        title="Next page"
        disabled={page >= pages - 1}
        onClick={() => onPage(page + 1)}
        data-testid="grid-next"
      >
        <span aria-hidden="true">›</span>
      </button>
    </nav>
  );
}
