"""Great Expectations Data Docs for each ingestion batch: one HTML page per validation run (a run covers a row
batch of small files or a chunk of a large file), rendered with GE's own renderer, and an index per entity.

Pages live in <warehouse>/data_docs/<entity>/<batch>/ and are linked from the asset's metadata in the Dagster UI.
The row-level lists (unexpected values and indices) are dropped before rendering: they are in the quarantine, and
a page with a million indices helps nobody. The sample of unexpected values GE keeps (`partial_unexpected_*`) stays
for ordinary columns (a strata "Utama" is worth seeing) and is dropped for personal ones (NIK, No. KK, a family id,
a birth date: validated as delivered, before pseudonymisation, so a malformed NIK would be printed verbatim).
GE's page template loads Bootstrap, jQuery and Vega from public CDNs;
those tags and the scripts that need them are taken out and a small stylesheet put in, so a page opens offline, with
no request to the internet and no script error (the tables are static HTML anyway).
"""

from __future__ import annotations

import html
import logging
import re
from pathlib import Path

log = logging.getLogger(__name__)

_ROW_LISTS = ("unexpected_list", "unexpected_index_list", "unexpected_index_query", "partial_unexpected_index_list")
_VALUE_SAMPLES = ("partial_unexpected_list", "partial_unexpected_counts")


def _columns_of(r) -> set[str]:
    kwargs = getattr(getattr(r, "expectation_config", None), "kwargs", None) or {}
    return {v for k, v in kwargs.items() if k in ("column", "column_A", "column_B") and isinstance(v, str)}


_EXTERNAL = re.compile(
    r"<link\b[^>]*\bhref=[\"']https?://[^>]*>|<link\b[^>]*\bicon\b[^>]*>|<script\b[^>]*>.*?</script>"
    r"|<img\b[^>]*\bsrc=[\"']https?://[^>]*>|url\([\"']?https?://[^)]*\)",
    re.DOTALL | re.IGNORECASE,
)
OFFLINE_CSS = """<style>
body{font-family:system-ui,sans-serif;margin:1rem 2rem;color:#1f2933}table{border-collapse:collapse;margin:.5rem 0}
td,th{border:1px solid #d9dee3;padding:.25rem .5rem;vertical-align:top}.alert-danger,.text-danger{color:#b42318}
.alert-success,.text-success{color:#137333}ul{padding-left:1.2rem}code{background:#f1f3f5;padding:0 .2rem}
</style>"""


def offline(page: str) -> str:
    """The page without anything fetched from the internet or any script, with a small stylesheet."""
    page = _EXTERNAL.sub("", page)
    return page.replace("</head>", '<link rel="icon" href="data:,">' + OFFLINE_CSS + "</head>", 1)


def docs_dir(warehouse_dir: Path, entity: str, batch: str) -> Path:
    return warehouse_dir / "data_docs" / entity / batch


def write_page(result, folder: Path, number: int, title: str, personal: frozenset[str] = frozenset()) -> Path | None:
    """Render one validation result to `folder/validation-<n>.html` (no value of a `personal` column on it); never
    fails the ingestion."""
    try:
        from great_expectations.render.renderer import ValidationResultsPageRenderer
        from great_expectations.render.view import DefaultJinjaPageView

        for r in result.results:
            drop = _ROW_LISTS + (_VALUE_SAMPLES if _columns_of(r) & personal else ())
            for key in drop:
                if r.result and key in r.result:
                    r.result.pop(key)
        page = DefaultJinjaPageView().render(ValidationResultsPageRenderer().render(result))
    except Exception as exc:  # noqa: BLE001 - documentation is a by-product; its failure must not stop a load
        log.warning("Data Docs page for %s not rendered: %s", title, exc)
        return None
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"validation-{number:03d}.html"
    path.write_text(offline(page), encoding="utf-8")
    return path


def write_index(folder: Path, entity: str, batch: str, pages: list[tuple[Path, str]]) -> Path | None:
    if not pages:
        return None
    items = "\n".join(f'<li><a href="{p.name}">{html.escape(label)}</a></li>' for p, label in pages)
    index = folder / "index.html"
    index.write_text(
        f"<!doctype html><meta charset='utf-8'><title>{entity} {batch}</title>"
        f"<h1>Great Expectations validations: {html.escape(entity)}, batch {html.escape(batch)}</h1>"
        f"<ul>{items}</ul>\n",
        encoding="utf-8",
    )
    return index
