"""Pseudonyms computed by DuckDB equal Python's hmac (RFC 2104) for any key length and any text."""

import hashlib
import hmac
import random

import pandas as pd
import pytest

from pipelines.lib.pii import pseudonymise


@pytest.mark.parametrize("key", [b"k", b"x" * 64, b"long-key-" * 20, bytes(range(256))[:80]])
def test_duckdb_hmac_equals_python_hmac(key):
    rng = random.Random(3)
    alphabet = "0123456789abcXYZ éü٣中\u00a0'\";,"
    values = ["".join(rng.choice(alphabet) for _ in range(rng.randint(1, 40))) for _ in range(500)]
    values += ["1901010101240001", " 1901010101240001 ", "", "   ", None]
    got = pseudonymise(pd.Series(values, index=range(100, 100 + len(values))), key)
    expected = [
        hmac.new(key, v.strip().encode(), hashlib.sha256).hexdigest() if v is not None and v.strip() else None
        for v in values
    ]
    assert got.index.tolist() == list(range(100, 100 + len(values)))
    assert [None if pd.isna(x) else x for x in got.tolist()] == expected
