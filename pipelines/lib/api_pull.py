"""Pull a source from a paginated JSON API into raw/, as immutable JSON-lines files, resumably.

The portal style (Kampung KB portal, SIGA): `GET <url>?updated_since=<ISO time>&page=<n>&per_page=<k>` with
`Authorization: Bearer <token>`, answering `{"data": [records], "meta": {"page": n, "total_pages": t}}`; every
record carries `updated_at`. Each page becomes one file
`raw/<entity folder>/api/<source>/<since>/page-<n>-<sha8>.jsonl`, written to a temporary name and renamed, never
overwritten: the same page pulled again is the same file (the ingestion's manifest then counts it once), a page whose
content changed is a new file. From there the files take the path of dropped files (exactly-once by content hash,
validation, quarantine).

Resumable: the cursor `<warehouse>/api/<source>.json` holds the watermark (`since`: the newest `updated_at` of the
last complete pull) and, during a pull, the next page and the newest `updated_at` seen so far; it is written
atomically after each page's file. A pull that stops (process killed, token expired, server down beyond the
retries) continues from its next page with the same `since`: no gap, and a page pulled twice is the same file.

Faults handled: 429 and 5xx are retried with exponential backoff, honouring `Retry-After` (urllib3's Retry); a slow
page times out and is retried; a page that comes back as another page (`meta.page` differs, a stale cache) is asked
for again; 401 stops the pull with a clear error and the cursor kept (renew the token, run again).
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

EPOCH = "1970-01-01T00:00:00+00:00"


class TokenRejected(RuntimeError):
    """The API refused the token (401/403): renew it; the pull resumes from its cursor."""


class PullFailed(RuntimeError):
    """The API kept failing after the retries, or answered something that is not a page; the cursor is kept."""


@dataclass(frozen=True)
class Endpoint:
    source: str  # a name: the cursor file and the raw sub-folder
    url: str
    folder: str  # the entity's raw folder, e.g. kampung_kb/intervensi
    token_env: str  # the environment variable holding the bearer token
    per_page: int = 500
    timeout_s: float = 30.0
    retries: int = 6
    backoff_s: float = 0.5  # first wait; doubles each retry (urllib3 backoff_factor)
    stale_page_retries: int = 3


@dataclass
class PullReport:
    since: str
    pages: int = 0
    records: int = 0
    files_written: list[Path] = field(default_factory=list)
    files_already_there: int = 0
    resumed_from_page: int | None = None
    new_since: str = ""


def session(endpoint: Endpoint) -> requests.Session:
    retry = Retry(
        total=endpoint.retries,
        connect=endpoint.retries,
        read=endpoint.retries,
        status=endpoint.retries,
        backoff_factor=endpoint.backoff_s,
        status_forcelist=(429, 500, 502, 503, 504),
        allowed_methods=("GET",),
        respect_retry_after_header=True,
        raise_on_status=False,
    )
    s = requests.Session()
    s.mount("http://", HTTPAdapter(max_retries=retry))
    s.mount("https://", HTTPAdapter(max_retries=retry))
    return s


def cursor_path(warehouse_dir: Path, source: str) -> Path:
    return warehouse_dir / "api" / f"{source}.json"


def read_cursor(path: Path) -> dict[str, Any]:
    if not path.exists():
        return {"since": EPOCH, "pull": None}
    return json.loads(path.read_text())


def _write_atomic(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    with os.fdopen(fd, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def page_file(raw_dir: Path, endpoint: Endpoint, since: str, page: int, body: bytes) -> Path:
    stamp = since.replace(":", "").replace("-", "").replace("+", "p")
    digest = hashlib.sha256(body).hexdigest()[:8]
    return raw_dir / endpoint.folder / "api" / endpoint.source / stamp / f"page-{page:06d}-{digest}.jsonl"


def pull(endpoint: Endpoint, raw_dir: Path, warehouse_dir: Path) -> PullReport:
    """Pull every record updated since the cursor's watermark; resume an unfinished pull where it stopped."""
    token = os.environ.get(endpoint.token_env, "").strip()
    if not token:
        raise TokenRejected(f"{endpoint.token_env} is not set: the API token of source {endpoint.source}")
    cpath = cursor_path(warehouse_dir, endpoint.source)
    cursor = read_cursor(cpath)
    state = cursor["pull"] or {"since": cursor["since"], "next_page": 1, "newest": cursor["since"]}
    report = PullReport(since=state["since"])
    if cursor["pull"]:
        report.resumed_from_page = state["next_page"]
    headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
    with session(endpoint) as http:
        while True:
            page = state["next_page"]
            records, total_pages = _get_page(http, endpoint, headers, state["since"], page)
            body = "".join(json.dumps(r, ensure_ascii=False, sort_keys=True) + "\n" for r in records).encode()
            if records:
                target = page_file(raw_dir, endpoint, state["since"], page, body)
                if target.exists():
                    report.files_already_there += 1
                else:
                    _write_atomic(target, body)
                    report.files_written.append(target)
                # ISO 8601 times in one zone (the API's) compare as text
                state["newest"] = max([state["newest"], *(str(r.get("updated_at") or EPOCH) for r in records)])
            report.pages += 1
            report.records += len(records)
            if page >= total_pages or not records:
                break
            state["next_page"] = page + 1
            _write_atomic(cpath, json.dumps({"since": cursor["since"], "pull": state}, indent=1).encode())
    report.new_since = state["newest"]
    _write_atomic(cpath, json.dumps({"since": state["newest"], "pull": None}, indent=1).encode())
    return report


def _get_page(
    http: requests.Session, endpoint: Endpoint, headers: dict, since: str, page: int
) -> tuple[list[dict], int]:
    params: dict[str, str | int] = {"updated_since": since, "page": page, "per_page": endpoint.per_page}
    for _ in range(endpoint.stale_page_retries + 1):
        try:
            response = http.get(endpoint.url, params=params, headers=headers, timeout=endpoint.timeout_s)
        except requests.RequestException as exc:
            raise PullFailed(f"{endpoint.source} page {page}: {exc}; the next run resumes from this page") from exc
        if response.status_code in (401, 403):
            raise TokenRejected(
                f"{endpoint.source}: the API refused the token in {endpoint.token_env} (HTTP {response.status_code})"
                f" at page {page}; renew it and run again: the pull resumes from page {page}"
            )
        if response.status_code != 200:
            raise PullFailed(
                f"{endpoint.source} page {page}: HTTP {response.status_code} after {endpoint.retries} retries; "
                "the next run resumes from this page"
            )
        try:
            payload = response.json()
            records, meta = payload["data"], payload["meta"]
        except (ValueError, KeyError, TypeError) as exc:
            raise PullFailed(f"{endpoint.source} page {page}: not a page of data ({exc})") from exc
        if int(meta.get("page", page)) == page:
            return list(records), int(meta.get("total_pages", page))
        # a stale page (another page's content): ask again
    raise PullFailed(f"{endpoint.source} page {page}: the API kept answering with another page")
