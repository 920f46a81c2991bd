"""The provider lookup sheet some discharge sitrep workbooks carry (``Lkp - Prov``): each trust's ICB as
NHS England attributes it, found by its column labels."""
from __future__ import annotations

import re

import polars as pl

from pipelines.publication.grid import HEADER_SEARCH_ROWS, Grid
from pipelines.publication.names import icb_short_name
from pipelines.publication.tables import ICB_CODE, TRUST_ICB_SCHEMA, norm

LOOKUP_SHEET = "acute workbook lookup sheet"
_ORG_LABELS = ("org code", "provider code", "organisation code", "trust code", "code")


def is_provider_lookup(sheet: str) -> bool:
    """'Lkp - Prov', 'Lookup - Providers' ..."""
    return bool(re.match(r"^(lkp|lookup)\b.*\bprov", norm(sheet)))


def read_provider_lookup(grid: Grid, notes: list[str]) -> pl.DataFrame:
    """org_code, icb_code, icb_name from the first row of labels naming a provider code and an ICB code."""
    for r, row in enumerate(grid.rows[:HEADER_SEARCH_ROWS]):
        words = [norm(c) for c in row]
        org = next((c for label in _ORG_LABELS for c, w in enumerate(words) if w == label), None)
        icb = next((c for c, w in enumerate(words) if re.fullmatch(r"(icb|stp) ?(ods )?code|icb", w)), None)
        if org is None or icb is None or org == icb:
            continue
        name = next((c for c, w in enumerate(words) if re.fullmatch(r"(icb|stp) ?name", w)), None)
        found = []
        for line in grid.rows[r + 1:]:
            code, icb_code = (str(line[org] or "").strip().upper(), str(line[icb] or "").strip().upper())
            if code and re.match(ICB_CODE, icb_code):
                icb_name = str(line[name]).strip() if name is not None and line[name] else None
                found.append((code, icb_code, icb_short_name(icb_name) if icb_name else None, LOOKUP_SHEET))
        notes.append(f"{grid.sheet}: the ICB of {len(found)} trust(s) as NHS England attributes them")
        return pl.DataFrame(found, schema=TRUST_ICB_SCHEMA, orient="row").unique("org_code", keep="first")
    notes.append(f"{grid.sheet}: no row naming a provider code and an ICB code, so the lookup was not used")
    return pl.DataFrame(schema=TRUST_ICB_SCHEMA)
