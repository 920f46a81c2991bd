"""The trusts and ICBs an NHS England publication names, with the short names a discharge group uses."""
from __future__ import annotations

import re

import polars as pl

from pipelines.publication import tables
from pipelines.publication.tables import ICB_SCHEMA, TRUST_SCHEMA, NhseRead

_UPPER_WORDS = {"NHS", "ICB", "UK", "CIC"}
_SMALL_WORDS = {"and", "of", "upon", "the", "on", "in", "at", "for", "by", "with", "under"}
_ORG_TYPE = re.compile(r"[\s,]*\b(NHS FOUNDATION TRUST|NHS TRUST|NATIONAL HEALTH SERVICE TRUST|FOUNDATION TRUST|"
                       r"NHS FT|TRUST)$")
# Words that say what kind of organisation it is rather than which one, dropped from the short name.
_GENERIC_HEAD = re.compile(r"^(THE\s+)?(UNIVERSITY HOSPITALS?\s+(OF\s+)?)?")
_GENERIC_TAIL = re.compile(r"\s+(UNIVERSITY TEACHING HOSPITALS?|TEACHING HOSPITALS?|UNIVERSITY HOSPITALS?|"
                           r"ACUTE HOSPITALS?|HOSPITALS UNIVERSITY|HOSPITALS?)$")


def title_case(text: str) -> str:
    """'THE NEWCASTLE UPON TYNE HOSPITALS NHS FOUNDATION TRUST' -> 'The Newcastle upon Tyne Hospitals NHS
    Foundation Trust'; "KING'S" -> "King's"; 'STOKE-ON-TRENT' -> 'Stoke-on-Trent'."""
    parts = re.split(r"(\s+|-)", text.strip())
    out, first = [], True
    for part in parts:
        if not part or part.isspace() or part == "-":
            out.append(part)
            continue
        bare = re.sub(r"[^A-Za-z]", "", part).upper()
        if bare in _UPPER_WORDS:
            out.append(part.upper())
        elif not first and bare.lower() in _SMALL_WORDS:
            out.append(part.lower())
        else:
            out.append(part[:1].upper() + part[1:].lower())
        first = False
    return "".join(out)


def short_name(full_name: str) -> str:
    """The name a discharge group uses: 'YORK AND SCARBOROUGH TEACHING HOSPITALS NHS FOUNDATION TRUST' ->
    'York and Scarborough'. Drops the organisation type, a leading 'The'/'University Hospitals (of)' and
    a trailing '(Teaching/University/Acute) Hospital(s)', keeping what tells the trust apart."""
    name = re.sub(r"\s+", " ", full_name.upper()).strip()
    name = _ORG_TYPE.sub("", name).strip(" ,") or name
    for pattern in (_GENERIC_HEAD, _GENERIC_TAIL):
        shorter = pattern.sub("", name).strip(" ,")
        name = shorter or name
    return title_case(name)


def _short_names(names: dict[str, str]) -> dict[str, str]:
    """Short names for code -> full name; two trusts that would share one keep their fuller names."""
    short = {code: short_name(name) for code, name in names.items()}
    counts: dict[str, int] = {}
    for value in short.values():
        counts[value] = counts.get(value, 0) + 1
    return {code: value if counts[value] == 1 else title_case(_ORG_TYPE.sub("", names[code].upper()).strip(" ,"))
            for code, value in short.items()}


def icb_short_name(full_name: str) -> str:
    """'NHS HUMBER AND NORTH YORKSHIRE INTEGRATED CARE BOARD' -> 'NHS Humber and North Yorkshire ICB'."""
    name = re.sub(r"\s*\*$", "", re.sub(r"\s+", " ", full_name).strip())  # a footnote star
    return title_case(re.sub(r"(?i)integrated care board$", "ICB", name))


def reference_rows(read: NhseRead) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The trusts and ICBs the publication names (first spelling seen), for adding to the reference data."""
    seen = pl.concat([frame.select("org_code", "org_name", "region") for frame in (
        read.daily, read.weekly_bed_days_lost, read.monthly_destinations, read.delay_reasons)])
    seen = seen.filter(pl.col("org_code").is_not_null()).unique("org_code", keep="first", maintain_order=True)
    icb_of = pl.concat([read.trust_icbs.select("org_code", "icb_code", "icb_source"),  # the workbook's own first
                        read.daily.filter(pl.col("icb_code").is_not_null()).select(
                            "org_code", "icb_code", icb_source=pl.lit("acute long CSV"))])
    icb_of = icb_of.unique("org_code", keep="first", maintain_order=True)
    icbs = pl.concat([
        frame.filter(pl.col("level") == tables.ICB).select("area_code", "area_name", "region") for frame in (
            read.daily_areas, read.weekly_bed_days_lost_areas, read.destinations_areas, read.delay_reasons_areas)])
    icbs = icbs.filter(pl.col("area_code").is_not_null()).unique("area_code", keep="first", maintain_order=True)
    icbs = icbs.select(icb_code="area_code", name=pl.col("area_name").map_elements(
        lambda n: title_case(re.sub(r"\s*\*$", "", n)), return_dtype=pl.String),
        short_name=pl.col("area_name").map_elements(icb_short_name, return_dtype=pl.String),
        region="region", published_name="area_name")
    shorts = _short_names(dict(seen.select("org_code", "org_name").iter_rows()))
    lookup_names = read.trust_icbs.select("icb_code", lookup_name="icb_name").unique("icb_code")
    trusts = seen.join(icb_of, on="org_code", how="left").join(
        icbs.select("icb_code", icb_name="short_name"), on="icb_code", how="left").join(
        lookup_names, on="icb_code", how="left").with_columns(
        icb_name=pl.coalesce("icb_name", "lookup_name")).select(
        "org_code", name=pl.col("org_name").map_elements(title_case, return_dtype=pl.String),
        short_name=pl.col("org_code").replace_strict(shorts, default=None), region="region", icb_code="icb_code",
        icb_name="icb_name", icb_source="icb_source", published_name="org_name")
    return trusts.cast(TRUST_SCHEMA), icbs.cast(ICB_SCHEMA)
