"""A local stand-in for the portal's paginated JSON API (pipelines/lib/api_pull.py speaks to it), with faults.

Serves a list of records on 127.0.0.1 (`GET /<anything>?updated_since=&page=&per_page=`, bearer token), in
`updated_at`, then `id` order, `updated_since` inclusive, in the portal's envelope
`{"data": [...], "meta": {"page", "per_page", "total_pages", "total"}}`.

Faults (Faults, all off by default), each keyed by page number and applied the first N times that page is asked for:
slow pages (seconds of delay before answering), errors (HTTP status, e.g. 500 or 429 with Retry-After: 0), stale
pages (the previous page's content in answer, as a stale cache would), and a token that expires after a number of
requests (every later request with it gets 401 until `rotate_token`).
"""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse


@dataclass
class Faults:
    slow: dict[int, tuple[float, int]] = field(default_factory=dict)  # page -> (seconds, times)
    errors: dict[int, tuple[int, int]] = field(default_factory=dict)  # page -> (HTTP status, times)
    stale: dict[int, int] = field(default_factory=dict)  # page -> times answered with the previous page
    token_expires_after: int | None = None  # requests accepted with a token before it expires


class PortalApi:
    """`with PortalApi(records, token) as api:` serves on api.url until the block ends."""

    def __init__(self, records: list[dict[str, Any]], token: str, faults: Faults | None = None):
        self.records = sorted(records, key=lambda r: (r["updated_at"], r.get("id", 0)))
        self.token = token
        self.faults = faults or Faults()
        self.asked: Counter = Counter()  # page -> requests
        self.served: Counter = Counter()  # status -> responses
        self._token_uses = 0
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/api/v1/intervensi"

    def rotate_token(self, token: str) -> None:
        with self._lock:
            self.token, self._token_uses = token, 0

    def __enter__(self) -> PortalApi:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def answer(self, headers: dict[str, str], query: dict[str, list[str]]) -> tuple[int, dict, dict]:
        """(status, headers, body) for one request: the whole behaviour, without sockets."""
        with self._lock:
            if headers.get("Authorization") != f"Bearer {self.token}":
                return 401, {}, {"error": "invalid token"}
            self._token_uses += 1
            if self.faults.token_expires_after is not None and self._token_uses > self.faults.token_expires_after:
                return 401, {}, {"error": "token expired"}
            since = query.get("updated_since", ["1970-01-01T00:00:00+00:00"])[0]
            page = int(query.get("page", ["1"])[0])
            per_page = int(query.get("per_page", ["100"])[0])
            self.asked[page] += 1
            times = self.asked[page]
            delay = 0.0
            if page in self.faults.slow and times <= self.faults.slow[page][1]:
                delay = self.faults.slow[page][0]
            if page in self.faults.errors and times <= self.faults.errors[page][1]:
                status = self.faults.errors[page][0]
                return status, ({"Retry-After": "0"} if status == 429 else {}), {"error": f"fault {status}"}
            shown = page - 1 if page in self.faults.stale and times <= self.faults.stale[page] and page > 1 else page
        if delay:
            time.sleep(delay)
        matching = [r for r in self.records if r["updated_at"] >= since]
        total_pages = max(1, -(-len(matching) // per_page))
        rows = matching[(shown - 1) * per_page : shown * per_page]
        meta = {"page": shown, "per_page": per_page, "total_pages": total_pages, "total": len(matching)}
        return 200, {}, {"data": rows, "meta": meta}

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        api = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (http.server's name)
                status, headers, body = api.answer(dict(self.headers), parse_qs(urlparse(self.path).query))
                with api._lock:
                    api.served[status] += 1
                data = json.dumps(body).encode()
                try:
                    self.send_response(status)
                    for k, v in {"Content-Type": "application/json", **headers}.items():
                        self.send_header(k, v)
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up waiting (a slow page): it asks again

            def log_message(self, *args: object) -> None:
                pass

        return Handler
