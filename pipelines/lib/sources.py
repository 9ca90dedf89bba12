"""The source configuration (sources.yaml at the repo root, or KKB_SOURCES_FILE): per entity, its folder (always)
and optionally an HTTP endpoint pulled into that folder (pipelines/lib/api_pull.py). Read strictly: an unknown entity
or key is an error that names it."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path

import yaml  # type: ignore[import-untyped]  # PyYAML ships no type hints

from pipelines.config import REPO_ROOT, ConfigError
from pipelines.lib.api_pull import Endpoint, PullFailed, PullReport, TokenRejected, pull
from pipelines.lib.entities import ENTITIES

HTTP_KEYS = {"source", "url", "token_env", "per_page", "timeout_s", "retries"}
_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


def sources_file() -> Path:
    return Path(os.environ.get("KKB_SOURCES_FILE") or REPO_ROOT / "sources.yaml")


def expand(value: str, env: Mapping[str, str]) -> str:
    """${VAR} from the environment; an unset variable is empty."""
    return _VAR.sub(lambda m: env.get(m.group(1), ""), value)


def http_endpoints(path: Path | None = None, env: Mapping[str, str] | None = None) -> dict[str, Endpoint]:
    """Entity name -> its HTTP endpoint, for the entities with one that is on (a non-empty url)."""
    path = path or sources_file()
    env = os.environ if env is None else env
    try:
        config = yaml.safe_load(path.read_text()) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"{path}: cannot read the source configuration ({exc})") from exc
    if set(config) - {"sources"}:
        raise ConfigError(f"{path}: unknown top-level key(s) {sorted(set(config) - {'sources'})}; expected `sources`")
    found: dict[str, Endpoint] = {}
    for name, entry in (config.get("sources") or {}).items():
        if name not in ENTITIES:
            raise ConfigError(f"{path}: unknown source {name!r}; the entities are {', '.join(sorted(ENTITIES))}")
        entry = entry or {}
        if set(entry) - {"http"}:
            raise ConfigError(f"{path}: {name}: unknown key(s) {sorted(set(entry) - {'http'})}; expected `http`")
        http = entry.get("http")
        if http is None:
            continue
        unknown, missing = set(http) - HTTP_KEYS, {"source", "url", "token_env"} - set(http)
        if unknown or missing:
            raise ConfigError(f"{path}: {name}.http: unknown {sorted(unknown)}, missing {sorted(missing)}")
        url = expand(str(http["url"]), env).strip()
        if not url:
            continue  # off until its url is set
        if not url.startswith(("http://", "https://")):
            raise ConfigError(f"{path}: {name}.http.url {url!r} is not an http(s) URL")
        numbers = {k: http[k] for k in ("per_page", "timeout_s", "retries") if k in http}
        for k, v in numbers.items():
            if not isinstance(v, int | float) or isinstance(v, bool) or v <= 0:
                raise ConfigError(f"{path}: {name}.http.{k} must be a positive number, not {v!r}")
        found[name] = Endpoint(
            source=str(http["source"]),
            url=url,
            folder=ENTITIES[name].folder,
            token_env=str(http["token_env"]),
            per_page=int(numbers.get("per_page", Endpoint.per_page)),
            timeout_s=float(numbers.get("timeout_s", Endpoint.timeout_s)),
            retries=int(numbers.get("retries", Endpoint.retries)),
        )
    return found


def pull_for(entity: str, raw_dir: Path, warehouse_dir: Path) -> tuple[PullReport | None, str | None, bool]:
    """Pull the entity's endpoint, when it has one that is on: (report, error, retry_may_help). An error leaves the
    pages pulled before it in raw/ (they are loaded) and the cursor where it stopped (the next pull resumes)."""
    endpoint = http_endpoints().get(entity)
    if endpoint is None:
        return None, None, False
    try:
        return pull(endpoint, raw_dir, warehouse_dir), None, False
    except TokenRejected as exc:
        return None, str(exc), False
    except PullFailed as exc:
        return None, str(exc), True


def pull_metadata(report: PullReport | None) -> dict[str, object]:
    if report is None:
        return {}
    return {
        "api_pages": report.pages,
        "api_records": report.records,
        "api_files_written": len(report.files_written),
        "api_since": report.since,
        "api_new_since": report.new_since,
        **({"api_resumed_from_page": report.resumed_from_page} if report.resumed_from_page else {}),
    }
