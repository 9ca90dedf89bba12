"""Every command block of the README runs as written (issue 21): the ```bash blocks are taken from README.md and run
in order with bash (-e: any failing line fails the block), from the repository's folder, on demo data (the Makefile's
province 19, seed 7, twelve months, at 1 % of its families) placed where the README's own commands expect it:
`$HOME/kkb/raw`, the key in `$HOME/kkb/pii.key`, HOME being a folder of the test. Blocks that cannot run here say why
in an HTML comment right above them (`<!-- not run by tests/test_readme.py: ... -->`), and name the test that covers
them instead; a block without that comment is run, so a new command in the README is tested by default."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from pipelines.synth import synthesize

REPO = Path(__file__).resolve().parent.parent
NOT_RUN = "<!-- not run by tests/test_readme.py:"


def blocks(text: str) -> list[tuple[int, str, str | None]]:
    """(line, code, why it is not run or None) of each ```bash block."""
    out = []
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        if lines[i].strip() == "```bash":
            start, body = i + 1, []
            i += 1
            while lines[i].strip() != "```":
                body.append(lines[i])
                i += 1
            above = lines[start - 2] if start >= 2 else ""
            why = above.split(NOT_RUN, 1)[1].rsplit("-->", 1)[0].strip() if above.startswith(NOT_RUN) else None
            out.append((start, "\n".join(body), why))
        i += 1
    return out


README_BLOCKS = blocks((REPO / "README.md").read_text(encoding="utf-8"))


def test_every_block_is_run_or_says_why_not():
    assert README_BLOCKS, "no ```bash block found in README.md"
    for line, _, why in README_BLOCKS:
        assert why is None or re.search(r"tests/test_\w+\.py", why), f"README.md:{line}: say which test covers it"
    assert [line for line, _, why in README_BLOCKS if why is None], "no block is run"


@pytest.fixture(scope="module")
def home(tmp_path_factory):
    home = tmp_path_factory.mktemp("home")
    synthesize(home / "kkb" / "raw", provinsi="19", months=[(2024, m) for m in range(1, 13)], seed=7, scale=0.01)
    (home / "kkb" / "pii.key").write_text("readme-test-key-" + "0" * 48 + "\n")
    return home


RUN = [(line, code) for line, code, why in README_BLOCKS if why is None]


@pytest.mark.parametrize(("line", "code"), RUN, ids=[f"README.md:{line}" for line, _ in RUN])
def test_the_block_runs_as_written(line, code, home):
    """Blocks run in README order (pytest keeps it): the first one builds the warehouse the later ones read."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("KKB_") or k in ("KKB_SETTLE_SECONDS", "KKB_DUCKDB_MEMORY")
    }
    env |= {
        "HOME": str(home),
        "DAGSTER_HOME": str(home / "dagster_home"),  # a Dagster instance of the test's own, not the repo's
        # the README's later blocks read the warehouse the first one built (after `make run` it is warehouse/)
        "KKB_WAREHOUSE_DIR": str(home / "kkb" / "warehouse"),
        "KKB_PII_KEY": (home / "kkb" / "pii.key").read_text().strip(),
    }
    (home / "dagster_home").mkdir(exist_ok=True)
    shutil.copy(REPO / "dagster_home" / "dagster.yaml", home / "dagster_home" / "dagster.yaml")
    done = subprocess.run(
        ["bash", "-e", "-o", "pipefail", "-c", code], cwd=REPO, env=env, capture_output=True, text=True, timeout=1200
    )
    assert done.returncode == 0, f"README.md:{line} failed:\n{code}\n---\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
