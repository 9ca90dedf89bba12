"""Pseudonymisation at the door: NIK / No. KK / family ids become HMAC-SHA256 hex digests (UU PDP, Law 27/2022).

The key comes from KKB_PII_KEY (see config.pii_key). The same value always gives the same pseudonym under one key,
so families and children can still be followed across files and rounds without anyone seeing who they are.
"""

from __future__ import annotations

import hashlib
import hmac

import pandas as pd


def hmac_hex(value: str, key: bytes) -> str:
    return hmac.new(key, value.encode(), hashlib.sha256).hexdigest()


def pseudonymise(values: pd.Series, key: bytes) -> pd.Series:
    """HMAC-SHA256 of each non-null value (stripped text); nulls stay null.

    The keyed inner/outer states are computed once and copied per value (about twice as fast as hmac.new).
    """
    block = 64
    k = hashlib.sha256(key).digest() if len(key) > block else key
    k = k.ljust(block, b"\0")
    inner0 = hashlib.sha256(bytes(b ^ 0x36 for b in k))
    outer0 = hashlib.sha256(bytes(b ^ 0x5C for b in k))

    def one(v: str) -> str:
        inner = inner0.copy()
        inner.update(v.encode())
        outer = outer0.copy()
        outer.update(inner.digest())
        return outer.hexdigest()

    text = values.astype("string").str.strip()
    mask = text.notna() & text.ne("")
    out = pd.Series(pd.NA, index=values.index, dtype="string")
    out[mask] = [one(v) for v in text[mask].tolist()]
    return out
