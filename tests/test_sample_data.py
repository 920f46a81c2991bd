"""The committed sample sitrep files: reproducible, complete, and within the domain rules (docs/domain.md section 2.1).

The files are read here with Polars directly, not with the project's readers, so these tests say
whether the *sample* is right, independently of whether the loaders are.
"""
from __future__ import annotations

import sys
from datetime import date, timedelta
from pathlib import Path

import polars as pl
import pytest
from helpers import REFERENCE_FIXTURES

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from pipelines.catalogue.columns import COLUMN_NAMES, DRD_BANDS, DRD_COLUMNS, canonical_name  # noqa: E402
from sample_data.generate import DRD_LATER, DRD_START, generate  # noqa: E402

SAMPLE = ROOT / "sample_data"
GENERATED_DIRS = ("sitrep", "flawed")
START, END = date(2023, 4, 1), date(2025, 9, 30)
COUNTS = [c for c in COLUMN_NAMES if c not in ("period_date", "org_code", "site_code", "trust_opel", "la_opel",
                                               *DRD_COLUMNS)]
TRUSTS = pl.read_csv(REFERENCE_FIXTURES / "trusts.csv")["org_code"].to_list()


def raw_cells(path: Path) -> pl.DataFrame:
    """Every cell as text, no header assumed (title rows may sit above it)."""
    if path.suffix == ".xlsx":
        return pl.read_excel(path, sheet_name="Data", has_header=False)
    data = path.read_bytes()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("cp1252")
    return pl.read_csv(text.encode("utf-8"), has_header=False, infer_schema=False)


def canonical_text(path: Path) -> pl.DataFrame:
    """One sample file's data rows as text under canonical names; title rows and the totals row dropped."""
    raw = raw_cells(path)
    first = raw.to_series(0).to_list()
    header = next(i for i, v in enumerate(first) if v and canonical_name(v) == "period_date")
    names = [canonical_name(v) for v in raw.row(header)]
    # the template of the file's day: without the discharge ready date columns before April 2024
    assert names in (list(COLUMN_NAMES), [c for c in COLUMN_NAMES if c not in DRD_COLUMNS]), \
        f"{path.name}: header does not map to the template"
    body = raw.slice(header + 1).rename(dict(zip(raw.columns, names, strict=True)))
    missing = [pl.lit(None, pl.String).alias(c) for c in DRD_COLUMNS if c not in names]
    return body.filter(pl.col("period_date").str.strip_chars() != "Total").with_columns(missing)


def typed(text: pl.DataFrame) -> pl.DataFrame:
    """Dates in either layout, thousands separators removed, every count a whole number (strict cast)."""
    day = pl.col("period_date").str.slice(0, 10)  # xlsx dates arrive as "2023-10-01 00:00:00"
    return text.select(
        pl.coalesce(day.str.strptime(pl.Date, "%Y-%m-%d", strict=False),
                    day.str.strptime(pl.Date, "%d/%m/%Y", strict=False)).alias("period_date"),
        "org_code", "site_code",
        *[pl.col(c).str.replace_all(",", "").cast(pl.Int64) for c in (*COUNTS, *DRD_COLUMNS, "trust_opel", "la_opel")],
    )


def read_sitrep(path: Path) -> pl.DataFrame:
    return typed(canonical_text(path)).with_columns(pl.lit(path.name).alias("file"))


def sample_files() -> list[Path]:
    return sorted((SAMPLE / "sitrep").glob("sitrep_*.*"))


@pytest.fixture(scope="module")
def sample() -> pl.DataFrame:
    return pl.concat([read_sitrep(p) for p in sample_files()]).with_columns(
        weekend=pl.col("period_date").dt.weekday() >= 6)


def tree(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes()
            for d in GENERATED_DIRS for p in sorted((root / d).rglob("*")) if p.is_file()}


def test_generator_is_deterministic_and_matches_the_committed_files(tmp_path: Path) -> None:
    generate(tmp_path / "a")
    generate(tmp_path / "b")
    first, second = tree(tmp_path / "a"), tree(tmp_path / "b")
    assert first == second
    committed = tree(SAMPLE)
    assert sorted(committed) == sorted(first), "committed files differ from what generate.py writes"
    stale = [name for name in first if first[name] != committed[name]]
    assert not stale, f"regenerate with `python sample_data/generate.py`: {stale}"


def test_sample_is_small_and_monthly() -> None:
    size = sum(p.stat().st_size for p in SAMPLE.rglob("*") if p.is_file())
    assert size < 5_000_000
    months = sorted(p.stem.removeprefix("sitrep_") for p in sample_files())
    assert len(months) == 30 and months[0] == "2023-04" and months[-1] == "2025-09"


def test_files_vary_like_real_submissions() -> None:
    """Each awkward layout the readers must cope with is present at least once."""
    csvs = [p.read_bytes() for p in sample_files() if p.suffix == ".csv"]
    assert any(not b.startswith(b"\xef\xbb\xbf") and b"\r\n" not in b and b.startswith(b"period_date,") for b in csvs)
    assert any(b.startswith(b"\xef\xbb\xbf") for b in csvs)
    assert any(b"\r\n" in b for b in csvs)
    assert any(b"\x96" in b for b in csvs)  # cp1252 en dash in a title row
    assert any(b.startswith(b"Daily discharge sitrep") or b.startswith(b"\xef\xbb\xbfDaily") for b in csvs)
    assert any(b'"1,' in b for b in csvs)
    assert any(b"\nTotal," in b for b in csvs)
    assert any(b"/2024," in b for b in csvs) and any(b"\n2024-" in b for b in csvs)
    xlsx = [p for p in sample_files() if p.suffix == ".xlsx"]
    assert len(xlsx) >= 2
    for path in xlsx:
        sheets = pl.read_excel(path, sheet_id=0)
        assert list(sheets) == ["Notes", "Data"]
        dates = read_sitrep(path)["period_date"]
        assert dates.null_count() == 0
    # real Excel dates come back as datetimes, not text
    assert raw_cells(xlsx[0]).filter(pl.col("column_1") == "RCD")["column_0"][0].endswith("00:00:00")


def test_every_trust_every_day_once(sample: pl.DataFrame) -> None:
    days = [START + timedelta(d) for d in range((END - START).days + 1)]
    units = [(o, s) for o in TRUSTS for s in (("RCB55", "RCBCA") if o == "RCB" else (None,))]
    expected = pl.DataFrame([(d, o, s) for d in days for o, s in units],
                            schema=["period_date", "org_code", "site_code"], orient="row")
    keys = sample.select("period_date", "org_code", "site_code")
    assert keys.is_duplicated().sum() == 0
    assert keys.height == expected.height
    assert keys.join(expected, on=["period_date", "org_code", "site_code"], how="anti", nulls_equal=True).height == 0
    # each file holds exactly its own month
    assert (sample["file"].str.slice(7, 7) == sample["period_date"].dt.strftime("%Y-%m")).all()


def test_every_row_meets_the_domain_rules(sample: pl.DataFrame) -> None:
    c = pl.col
    rules = {
        "counts >= 0": pl.all_horizontal([c(x) >= 0 for x in COUNTS]),
        "counts present": pl.all_horizontal([c(x).is_not_null() for x in COUNTS]),
        "los_21 <= los_14 <= los_7 <= occupied": (c("los_21plus") <= c("los_14plus"))
        & (c("los_14plus") <= c("los_7plus")) & (c("los_7plus") <= c("ga_beds_occupied")),
        "covid <= occupied": c("covid_beds_occupied") <= c("ga_beds_occupied"),
        "by_5pm <= discharged <= nctr": (c("nctr_discharged_by_5pm") <= c("nctr_discharged"))
        & (c("nctr_discharged") <= c("nctr_patients")),
        "trust_opel 1-4": c("trust_opel").is_between(1, 4),
        "la_opel 1-4 or blank": c("la_opel").is_between(1, 4) | c("la_opel").is_null(),
    }
    for name, rule in rules.items():
        broken = sample.filter(~rule.fill_null(False))
        assert broken.height == 0, f"{name}: {broken.head(3)}"
    # la_opel is left blank by a couple of trusts, and by them on every day
    blank = sample.filter(c("la_opel").is_null())["org_code"].unique().sort().to_list()
    assert blank == ["RJL", "RR7"]
    assert sample.filter(c("org_code").is_in(blank))["la_opel"].null_count() == sample.filter(
        c("org_code").is_in(blank)).height


def test_occupied_above_open_only_a_handful_of_deep_winter_days(sample: pl.DataFrame) -> None:
    over = sample.filter(pl.col("ga_beds_occupied") > pl.col("ga_beds_open"))
    assert over.height in range(1, 11)  # a handful, not none and not a habit
    assert over["org_code"].n_unique() <= 2
    assert over["period_date"].dt.month().is_in([12, 1, 2]).all()


def test_rcb_submits_two_sites_and_no_trust_row(sample: pl.DataFrame) -> None:
    rcb = sample.filter(pl.col("org_code") == "RCB")
    assert sorted(rcb["site_code"].unique().to_list()) == ["RCB55", "RCBCA"]
    assert rcb["site_code"].null_count() == 0
    beds = rcb.group_by("site_code").agg(pl.col("ga_beds_open").mean()).sort("site_code")["ga_beds_open"]
    assert 0.55 < beds[0] / beds.sum() < 0.65  # York ~60%, Scarborough ~40%
    assert sample.filter(pl.col("org_code") != "RCB")["site_code"].null_count() == sample.filter(
        pl.col("org_code") != "RCB").height


def test_weekends_have_fewer_nctr_discharges(sample: pl.DataFrame) -> None:
    by_trust = sample.group_by("org_code", "weekend").agg(pl.col("nctr_discharged").mean())
    wide = by_trust.pivot(on="weekend", index="org_code", values="nctr_discharged")
    ratio = wide["true"] / wide["false"]
    assert (ratio < 0.75).all() and (ratio > 0.35).all()


def test_levels_are_plausible(sample: pl.DataFrame) -> None:
    c = pl.col
    discharges = sum(c(f"discharges_p{k}") for k in range(4))
    per_trust = sample.group_by("org_code").agg(
        occupancy=c("ga_beds_occupied").sum() / c("ga_beds_open").sum(),
        covid=c("covid_beds_occupied").sum() / c("ga_beds_occupied").sum(),
        stranded=c("los_7plus").sum() / c("ga_beds_occupied").sum(),
        super_stranded=c("los_21plus").sum() / c("ga_beds_occupied").sum(),
        nctr=c("nctr_patients").sum() / c("ga_beds_occupied").sum(),
        ctr_discharged=c("nctr_discharged").sum() / c("nctr_patients").sum(),
        by_5pm=c("nctr_discharged_by_5pm").sum() / c("nctr_discharged").sum(),
        weekday_discharges=discharges.filter(~c("weekend")).sum() / c("ga_beds_open").filter(~c("weekend")).sum(),
        p0=c("discharges_p0").sum() / discharges.sum(), p1=c("discharges_p1").sum() / discharges.sum(),
        p2=c("discharges_p2").sum() / discharges.sum(), p3=c("discharges_p3").sum() / discharges.sum(),
    )
    bands = {"occupancy": (0.88, 0.97), "covid": (0.01, 0.06), "stranded": (0.35, 0.55),
             "super_stranded": (0.08, 0.19), "nctr": (0.12, 0.22), "ctr_discharged": (0.10, 0.30),
             "by_5pm": (0.40, 0.60), "weekday_discharges": (0.08, 0.12), "p0": (0.50, 0.62),
             "p1": (0.30, 0.42), "p2": (0.03, 0.06), "p3": (0.008, 0.02)}
    for metric, (low, high) in bands.items():
        assert per_trust[metric].is_between(low, high).all(), per_trust.select("org_code", metric)
    stranded = dict(per_trust.select("org_code", "stranded").iter_rows())
    assert stranded["RCD"] > stranded["RCB"] and stranded["RTR"] > stranded["RCB"]
    assert 0.38 <= stranded["RCF"] <= 0.43
    # winter peaks: occupancy and OPEL higher in Dec-Feb; COVID worse in winter 2023/24 than 2024/25
    month = sample["period_date"].dt.month()
    winter, summer = sample.filter(month.is_in([12, 1, 2])), sample.filter(month.is_in([6, 7, 8]))
    assert winter["ga_beds_occupied"].sum() / winter["ga_beds_open"].sum() > \
        summer["ga_beds_occupied"].sum() / summer["ga_beds_open"].sum() + 0.02
    assert (winter["trust_opel"] == 4).mean() > 0.3 > (summer["trust_opel"] == 4).mean()
    assert summer["trust_opel"].is_in([2, 3]).mean() > 0.75

    def covid_share(first: date, last: date) -> float:
        season = sample.filter(pl.col("period_date").is_between(first, last))
        return season["covid_beds_occupied"].sum() / season["ga_beds_occupied"].sum()
    assert covid_share(date(2023, 12, 1), date(2024, 2, 29)) > covid_share(date(2024, 12, 1), date(2025, 2, 28))


# What each line of flawed/sitrep_flawed.csv must break (line numbers as a text editor shows them).
FLAW_AT_LINE = {
    3: lambda r: int(r["discharges_p3"]) < 0,
    5: lambda r: int(r["los_21plus"]) > int(r["los_14plus"]),
    7: lambda r: int(r["los_14plus"]) > int(r["los_7plus"]),
    9: lambda r: int(r["los_7plus"]) > int(r["ga_beds_occupied"]),
    11: lambda r: int(r["covid_beds_occupied"]) > int(r["ga_beds_occupied"]),
    13: lambda r: int(r["nctr_discharged_by_5pm"]) > int(r["nctr_discharged"]),
    15: lambda r: int(r["nctr_discharged"]) > int(r["nctr_patients"]),
    17: lambda r: r["trust_opel"] == "5",
    19: lambda r: r["la_opel"] == "0",
    21: lambda r: r["period_date"] == "01/01/2099",
    23: lambda r: r["org_code"] == "ZZZ",
    25: lambda r: (r["org_code"], r["period_date"]) == ("RCF", "25/09/2025"),
    27: lambda r: (r["org_code"], r["period_date"]) == ("RCF", "25/09/2025"),
    29: lambda r: r["discharges_p1"] is None,
    31: lambda r: r["discharges_p2"] == "twelve",
    33: lambda r: r["period_date"] == "31/02/2025",
    35: lambda r: int(r["ga_beds_occupied"]) > int(r["ga_beds_open"]),
}


def test_flawed_file_has_one_flaw_per_row_between_good_rows(sample: pl.DataFrame) -> None:
    flawed = pl.read_csv(SAMPLE / "flawed" / "sitrep_flawed.csv", infer_schema=False)
    assert tuple(flawed.columns) == COLUMN_NAMES
    rows = {line: row for line, row in enumerate(flawed.iter_rows(named=True), start=2)}
    assert set(rows) == set(range(2, 37))
    for line, breaks in FLAW_AT_LINE.items():
        assert breaks(rows[line]), f"line {line} does not carry its flaw: {rows[line]}"
    good = typed(pl.DataFrame([rows[line] for line in rows if line % 2 == 0]))
    assert (good["org_code"] == "RCD").all() and good.height == 18
    originals = sample.filter(pl.col("org_code") == "RCD").join(good.select("period_date"), on="period_date")
    assert good.equals(originals.drop("file", "weekend"))  # identical to the sample's rows for those days
    readme = (SAMPLE / "flawed" / "README.md").read_text(encoding="utf-8")
    for line in rows:
        assert f"\n| {line} | " in readme


def test_discharge_ready_date_figures_start_in_april_2024_and_meet_their_rules(sample: pl.DataFrame) -> None:
    c = pl.col
    starts = {org: DRD_LATER.get(org, DRD_START) for org in TRUSTS}
    first = sample.filter(c("drd_discharges").is_not_null()).group_by("org_code").agg(c("period_date").min())
    assert dict(first.iter_rows()) == starts  # every trust has figures, from its start date
    started = sample.join(pl.DataFrame({"org_code": list(starts), "start": list(starts.values())}), on="org_code")
    before, after = started.filter(c("period_date") < c("start")), started.filter(c("period_date") >= c("start"))
    assert before.select(DRD_COLUMNS).null_count().row(0) == (before.height,) * len(DRD_COLUMNS)  # none, never 0
    assert after.select(DRD_COLUMNS).null_count().row(0) == (0,) * len(DRD_COLUMNS)
    low = sum(c(b) * n for b, n in zip(DRD_BANDS, (0, 1, 2, 4, 7, 14, 21), strict=True))
    high = sum(c(b) * n for b, n in zip(DRD_BANDS[:-1], (0, 1, 3, 6, 13, 20), strict=True))
    rules = {
        "bands add up": sum(c(b) for b in DRD_BANDS) == c("drd_discharges"),
        "delay days within the bands": (c("drd_delay_days") >= low)
        & ((c("drd_delay_21plus") > 0) | (c("drd_delay_days") <= high)),
        "past_drd_21plus <= nctr": c("past_drd_21plus") <= c("nctr_patients"),
        "internal_delay_48h_plus <= nctr": c("internal_delay_48h_plus") <= c("nctr_patients"),
        "non-negative": pl.all_horizontal([c(x) >= 0 for x in DRD_COLUMNS]),
    }
    for name, rule in rules.items():
        assert after.filter(~rule).height == 0, name
    # plausible: most leave on their discharge ready date; 21+ days around the plan's 0.7%, spread by trust
    shares = after.group_by("org_code").agg(on_drd=c("drd_delay_0").sum() / c("drd_discharges").sum(),
                                            over_21=c("drd_delay_21plus").sum() / c("drd_discharges").sum())
    assert shares["on_drd"].is_between(0.7, 0.95).all()
    assert shares["over_21"].min() < 0.007 < shares["over_21"].max() < 0.03
