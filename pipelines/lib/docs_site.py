"""`make docs`: the documentation a data engineer opens in a browser, built without the internet, in warehouse/docs/.

- warehouse/docs/dbt/index.html: dbt's docs site as one self-contained file (`dbt docs generate --static`: models,
  columns, tests, lineage graph, catalog from the DuckDB warehouse).
- warehouse/docs/index.html: the entry page, linking the dbt docs, the Kampung KB report and every ingestion batch's
  Great Expectations Data Docs (warehouse/data_docs/<entity>/<batch>/), newest first. Data Docs pages written by an
  older version with CDN links are made offline on the way.
"""

from __future__ import annotations

import html
import os
import shutil
import subprocess
from pathlib import Path

from pipelines.config import Settings
from pipelines.lib import datadocs


class DocsError(RuntimeError):
    """The docs could not be built; the message says why and what to do."""


def build_dbt_docs(settings: Settings, dbt: str, project_dir: Path) -> Path:
    if not settings.duckdb_path.exists():
        raise DocsError(f"no warehouse at {settings.duckdb_path}: run `make run` first (the docs describe it)")
    out = settings.warehouse_dir / "docs"
    target = out / ".dbt-target"
    env = {**os.environ, **settings.dbt_env()}
    cmd = [dbt, "docs", "generate", "--static", "--target-path", str(target), "--profiles-dir", str(project_dir)]
    done = subprocess.run(cmd, cwd=project_dir, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        tail = (done.stdout + done.stderr)[-2000:]
        hint = " (a run is writing the warehouse: try again when it is done)" if "lock" in tail.lower() else ""
        raise DocsError(f"dbt docs generate failed{hint}:\n{tail}")
    page = out / "dbt" / "index.html"
    page.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(target / "static_index.html", page.with_suffix(".tmp"))
    os.replace(page.with_suffix(".tmp"), page)
    return page


def data_docs_batches(settings: Settings) -> dict[str, list[Path]]:
    """entity -> its batches' Data Docs index pages, newest first."""
    root = settings.warehouse_dir / "data_docs"
    out: dict[str, list[Path]] = {}
    for entity in sorted(p for p in root.iterdir() if p.is_dir()) if root.is_dir() else []:
        pages = sorted(entity.glob("*/index.html"), key=lambda p: p.parent.name, reverse=True)
        if pages:
            out[entity.name] = pages
    return out


def make_offline(settings: Settings) -> int:
    """Strip CDN tags from Data Docs pages written before pages were made offline; returns pages changed."""
    changed = 0
    for page in (settings.warehouse_dir / "data_docs").glob("*/*/validation-*.html"):
        text = page.read_text(encoding="utf-8")
        fixed = datadocs.offline(text) if "https://" in text.split("</head>", 1)[0] else text
        if fixed != text:
            page.write_text(fixed, encoding="utf-8")
            changed += 1
    return changed


def write_index(settings: Settings) -> Path:
    out = settings.warehouse_dir / "docs"
    out.mkdir(parents=True, exist_ok=True)
    rows = []
    for entity, pages in data_docs_batches(settings).items():
        links = ", ".join(
            f'<a href="{html.escape(os.path.relpath(p, out))}">{html.escape(p.parent.name)}</a>' for p in pages[:10]
        )
        more = f" and {len(pages) - 10} older" if len(pages) > 10 else ""
        rows.append(f"<tr><td>{html.escape(entity)}</td><td>{len(pages)}</td><td>{links}{more}</td></tr>")
    report = settings.report_dir / "index.html"
    doc = f"""<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Kampung KB documentation</title>
<link rel="icon" href="data:,"><style>body{{font-family:system-ui,sans-serif;margin:1.5rem 2rem;color:#1f2933}}
table{{border-collapse:collapse}}td,th{{border:1px solid #d9dee3;padding:.3rem .6rem;text-align:left}}</style></head>
<body><h1>Kampung KB documentation</h1><ul>
<li><a href="dbt/index.html">dbt docs</a>: every model, column, test and the lineage graph of the warehouse</li>
{
        '<li><a href="../report/index.html">Laporan Kampung KB</a>: the report of the current publication</li>'
        if report.exists()
        else "<li>Laporan Kampung KB: not made yet (it follows the next publication)</li>"
    }
</ul><h2>Great Expectations Data Docs, per ingestion batch</h2>
<table><thead><tr><th>source</th><th>batches</th><th>newest first</th></tr></thead>
<tbody>{"".join(rows) or '<tr><td colspan="3">no batch validated yet</td></tr>'}</tbody></table></body></html>
"""
    page = out / "index.html"
    page.with_suffix(".tmp").write_text(doc, encoding="utf-8")
    os.replace(page.with_suffix(".tmp"), page)
    return page
