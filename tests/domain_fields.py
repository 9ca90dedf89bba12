"""The field lists of DOMAIN.md section 3, read from DOMAIN.md itself (../shared/DOMAIN.md beside the repository):
the contract a delivered file is held to, independent of the pipeline's own column lists."""

from __future__ import annotations

import re
from pathlib import Path

DOMAIN_MD = Path(__file__).resolve().parent.parent.parent / "shared" / "DOMAIN.md"

# entity -> the bold title of its field list in DOMAIN.md
TITLES = {
    "profil_kampung_kb": "Kampung KB register and profile",
    "kkbpk_bulanan": "Monthly KKBPK report",
    "intervensi": "Intervensi (activity posts)",
    "posyandu": "Posyandu master",
    "skdn": "Monthly SKDN recap",
    "eppgbm": "e-PPGBM child measurements",
    "pk_keluarga": "Pendataan Keluarga (PK) family register",
    "pk_anggota": "PK members",
    "poktan": "SIGA poktan register",
}


def _split_top_level(text: str) -> list[str]:
    """'a, b{x, y}, c (list of p, q)' -> ['a', 'b{x, y}', 'c (list of p, q)']."""
    out, depth, cur = [], 0, []
    for ch in text:
        if ch in "{(":
            depth += 1
        elif ch in "})":
            depth -= 1
        if ch == "," and depth == 0:
            out.append("".join(cur))
            cur = []
        else:
            cur.append(ch)
    out.append("".join(cur))
    return [p.strip() for p in out if p.strip()]


def domain_fields() -> dict[str, list[str]]:
    """Entity -> the field names DOMAIN.md lists for it, in its order."""
    text = DOMAIN_MD.read_text(encoding="utf-8")
    out = {}
    for entity, title in TITLES.items():
        start = text.index(f"**{title}**")
        span = re.search(r"`([^`]+)`", text[start:], flags=re.S)
        assert span, f"no field list after {title!r} in DOMAIN.md"
        names = []
        for part in _split_top_level(" ".join(span.group(1).split())):
            m = re.match(r"[a-z_][a-z0-9_]*", part)
            assert m, f"cannot read a field name in {part!r} ({title})"
            names.append(m.group(0))
        out[entity] = names
    return out
