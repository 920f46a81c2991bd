"""Generate the sample daily trust sitrep files (docs/domain.md section 2.1) and a deliberately flawed file.

Deterministic: one fixed seed (numpy default_rng), no clock reads, fixed xlsx metadata, so two
runs give byte-identical files. `python sample_data/generate.py` regenerates sample_data/ in place;
`generate(out_dir)` writes the same files anywhere (the tests use it).
"""
from __future__ import annotations

import csv
import sys
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # so `python sample_data/generate.py` finds pipelines/ and sample_data/
from pipelines.catalogue.columns import DRD_BANDS  # noqa: E402
from sample_data.formats import Row, Style, cell, write_csv, write_sitreps  # noqa: E402

SEED = 20230401
START, END = date(2023, 4, 1), date(2025, 9, 30)


@dataclass(frozen=True)
class Profile:
    """A trust's persistent character, so trusts differ week after week, not just day to day."""
    beds: int          # G&A core beds
    stranded: float    # share of occupied beds with LoS 7+ at the start
    trend: float       # change in that share by the end (< 0 improves); also nudges occupancy and NCTR
    occupancy: float   # summer baseline occupancy
    nctr: float        # share of occupied beds no longer meeting the criteria to reside
    by_5pm: float      # share of NCTR discharges done by 17:00
    la_opel: bool = True  # False: this trust leaves la_opel blank


PROFILES: dict[str, Profile] = {
    "RCB": Profile(950, 0.39, -0.03, 0.920, 0.15, 0.45),   # York: within the 40% ambition, improving
    "RCD": Profile(330, 0.49, +0.04, 0.900, 0.19, 0.58),   # Harrogate: high stranded share, worsening
    "RWA": Profile(1100, 0.45, -0.01, 0.930, 0.16, 0.48),
    "RJL": Profile(650, 0.47, +0.02, 0.935, 0.18, 0.42, la_opel=False),
    "RTR": Profile(1000, 0.49, -0.04, 0.925, 0.17, 0.55),  # South Tees: high but improving
    "RXP": Profile(900, 0.44, 0.00, 0.915, 0.16, 0.50),
    "RR7": Profile(400, 0.41, +0.01, 0.895, 0.14, 0.52, la_opel=False),
    "RTD": Profile(1500, 0.46, -0.015, 0.920, 0.15, 0.47),
    "RCF": Profile(300, 0.40, 0.00, 0.890, 0.13, 0.40),    # Airedale: close to 40%
    "RAE": Profile(650, 0.43, +0.02, 0.910, 0.17, 0.53),
    "RR8": Profile(1500, 0.48, -0.02, 0.930, 0.20, 0.44),
    "RXF": Profile(1000, 0.47, +0.025, 0.925, 0.19, 0.46),
    "RWY": Profile(750, 0.42, -0.01, 0.930, 0.15, 0.57),
}
# York and Scarborough submits per site and never a trust-level row: (site, share of beds, stranded offset).
SITES: dict[str, tuple[tuple[str | None, float, float], ...]] = {
    "RCB": (("RCB55", 0.6, 0.0), ("RCBCA", 0.4, 0.02)),
}
# Deep-winter days with occupied above open (legal, loaded with a warning), placed by hand so the
# sample holds a known handful of them: (org, ISO date) -> beds over.
# Discharge ready date figures (docs/domain.md section 2.5): from April 2024, when the template gained the columns; two
# trusts started recording later, so their earlier weeks show "not collected" rather than 0.
DRD_START = date(2024, 4, 1)
DRD_LATER: dict[str, date] = {"RJL": date(2024, 7, 1), "RR7": date(2024, 10, 7)}
OVERFLOW: dict[tuple[str, str], int] = {
    ("RJL", "2024-01-08"): 4, ("RJL", "2024-01-09"): 7, ("RJL", "2024-01-10"): 2,
    ("RWY", "2025-01-06"): 3, ("RWY", "2025-01-07"): 5,
}




def ar1(rng: np.random.Generator, n: int, sigma: float, phi: float = 0.9) -> np.ndarray:
    """Persistent day-to-day noise: weekly averages wander plausibly instead of averaging out."""
    shocks = rng.normal(0.0, sigma * np.sqrt(1 - phi**2), n)
    out, level = np.empty(n), rng.normal(0.0, sigma)
    for i, shock in enumerate(shocks):
        level = phi * level + shock
        out[i] = level
    return out


class Calendar:
    """Every day of the sample with the calendar effects shared by all trusts."""

    def __init__(self) -> None:
        self.days = [START + timedelta(d) for d in range((END - START).days + 1)]
        n = len(self.days)
        dow = np.array([d.weekday() for d in self.days])
        self.weekend = (dow >= 5).astype(float)
        self.progress = np.arange(n) / (n - 1)  # 0 -> 1 across the period, for gentle trends
        from_mid_jan = np.array([(d - date(d.year, 1, 15)).days for d in self.days])
        self.winter = (0.5 * (1 + np.cos(2 * np.pi * from_mid_jan / 365.25))) ** 3  # 0 in summer, 1 mid-Jan
        # COVID: winter 2023/24 worse than 2024/25, plus the small summer 2024 wave.
        season = np.array([d.year if d.month >= 7 else d.year - 1 for d in self.days])
        wave = np.exp(-0.5 * (np.array([(d - date(2024, 7, 20)).days for d in self.days]) / 20) ** 2)
        self.covid = 0.015 + self.winter * np.where(season == 2023, 0.035, 0.018) + 0.012 * wave
        self.nctr_dow = np.array([1.0, 1.0, 1.0, 1.0, 1.05, 0.6, 0.5])[dow]  # few NCTR discharges at weekends
        self.discharge_dow = np.array([0.95, 1.0, 1.0, 1.0, 1.1, 0.6, 0.5])[dow]


def opel_chain(rng: np.random.Generator, pressure: np.ndarray) -> np.ndarray:
    """OPEL as a Markov chain: most days repeat yesterday; a move is one level, upward when pressure is high."""
    moves, ups = rng.random(len(pressure)), rng.random(len(pressure))
    level, out = 2, np.empty(len(pressure), dtype=int)
    for i, p in enumerate(pressure):
        if moves[i] < 0.2:
            up = ups[i] < np.clip(0.5 + 0.6 * (p - level), 0.05, 0.95)
            level = min(4, level + 1) if up else max(1, level - 1)
        out[i] = level
    return out


def simulate_site(rng: np.random.Generator, p: Profile, share: float, offset: float, cal: Calendar,
                  overflow: dict[int, int]) -> dict[str, np.ndarray]:
    """All count columns for one trust (or site), every day; ratios first, then rounded counts."""
    n, w, t, wkend = len(cal.days), cal.winter, cal.progress, cal.weekend
    def rint(x: np.ndarray) -> np.ndarray:
        return np.rint(x).astype(np.int64)
    # Escalation beds open in winter; a few five-day wards close at weekends.
    beds_open = rint(p.beds * share * (1 + 0.035 * w - 0.01 * wkend + ar1(rng, n, 0.004)))
    occupancy = np.clip(p.occupancy + 0.045 * w + 0.5 * p.trend * t + 0.005 * wkend + ar1(rng, n, 0.012), 0.84, 0.99)
    occupied = np.minimum(rint(beds_open * occupancy), beds_open)
    for i, extra in overflow.items():
        occupied[i] = beds_open[i] + extra
    covid = rint(occupied * np.clip(cal.covid + ar1(rng, n, 0.005), 0.01, 0.065))
    stranded = np.clip(p.stranded + offset + 0.03 * w + p.trend * t + ar1(rng, n, 0.015), 0.33, 0.58)
    los7 = rint(occupied * stranded)
    # Long stays compound: trusts with more stranded patients also keep a larger share of them for weeks.
    los14 = rint(los7 * np.clip(0.60 + 0.3 * (p.stranded - 0.45) + ar1(rng, n, 0.012), 0.55, 0.65))
    los21 = rint(los14 * np.clip(0.55 + 0.3 * (p.stranded - 0.45) + ar1(rng, n, 0.012), 0.50, 0.60))
    nctr = rint(occupied * np.clip(p.nctr + 0.025 * w + 0.5 * p.trend * t + ar1(rng, n, 0.012), 0.11, 0.23))
    nctr_dis = rng.binomial(nctr, np.clip(0.21 + ar1(rng, n, 0.02), 0.14, 0.28) * cal.nctr_dow)
    by_5pm = rng.binomial(nctr_dis, np.clip(p.by_5pm + ar1(rng, n, 0.03), 0.38, 0.62))
    # Pathways: P1-P3 need packages or beds arranged, so weekends shift the mix towards P0.
    total = rng.poisson(occupied * rng.uniform(0.085, 0.11) * cal.discharge_dow)
    q = np.array([rng.uniform(0.36, 0.42), rng.uniform(0.035, 0.055), rng.uniform(0.01, 0.018)])
    q_day = q[None, :] * (1 - 0.2 * wkend)[:, None]
    pathways = rng.multinomial(total, np.column_stack([1 - q_day.sum(axis=1), q_day]))
    return {"ga_beds_open": beds_open, "ga_beds_occupied": occupied, "covid_beds_occupied": covid,
            "los_7plus": los7, "los_14plus": los14, "los_21plus": los21, "nctr_patients": nctr,
            "nctr_discharged": nctr_dis, "nctr_discharged_by_5pm": by_5pm,
            **{f"discharges_p{k}": pathways[:, k] for k in range(4)}}


def simulate_drd(rng: np.random.Generator, p: Profile, series: dict[str, np.ndarray], cal: Calendar,
                 first: int) -> dict[str, list[int | None]]:
    """The discharge ready date columns for one trust (or site), blank before day ``first``: most patients
    leave on their DRD; the delayed fall in bands whose tail (21+ days) is around the plan's 0.7%, higher
    where the trust's stranded share is, shrinking where it improves. Its own random stream, so the other
    columns are as they were before the DRD columns existed."""
    n, w, t = len(cal.days), cal.winter, cal.progress
    discharged = sum(series[f"discharges_p{k}"] for k in range(4))
    recorded = rng.binomial(discharged, np.clip(0.88 + ar1(rng, n, 0.02), 0.8, 0.95))  # some DRDs not recorded
    on_drd = np.clip(0.84 - 0.05 * w - 0.6 * (p.stranded - 0.45) - p.trend * t + ar1(rng, n, 0.02), 0.7, 0.93)
    tail = np.clip(0.05 + 0.5 * (p.stranded - 0.45) + 0.02 * w + p.trend * t + ar1(rng, n, 0.01), 0.01, 0.12)
    # Among the delayed: 1, 2-3, 4-6, 7-13, 14-20 days and the tail of 21+.
    delayed = np.column_stack([0.36 * (1 - tail), 0.30 * (1 - tail), 0.16 * (1 - tail), 0.13 * (1 - tail),
                               0.05 * (1 - tail), tail])
    bands = rng.multinomial(recorded, np.column_stack([on_drd, (1 - on_drd)[:, None] * delayed]))
    low, span = np.array([0, 1, 2, 4, 7, 14]), np.array([0, 0, 1, 2, 6, 6])
    days = (bands[:, :6] * low).sum(axis=1) + rng.binomial(bands[:, :6] * span, 0.45).sum(axis=1) \
        + 21 * bands[:, 6] + rng.poisson(14 * bands[:, 6])  # 21+: three weeks and a long, thin tail
    nctr = series["nctr_patients"]
    past_21 = rng.binomial(nctr, np.clip(0.12 + 0.4 * (p.stranded - 0.45) + 0.03 * w + ar1(rng, n, 0.02), 0.03, 0.3))
    internal = rng.binomial(nctr, np.clip(0.07 + 0.02 * w + ar1(rng, n, 0.015), 0.02, 0.15))
    columns = {"drd_discharges": recorded, **dict(zip(DRD_BANDS, bands.T, strict=True)), "drd_delay_days": days,
               "past_drd_21plus": past_21, "internal_delay_48h_plus": internal}
    return {c: [None] * first + [int(v) for v in values[first:]] for c, values in columns.items()}


def trust_codes() -> list[str]:
    with open(ROOT / "reference_data" / "trusts.csv", newline="", encoding="utf-8") as f:
        codes = [r["org_code"] for r in csv.DictReader(f)]
    assert sorted(codes) == sorted(PROFILES), "PROFILES must cover exactly the trusts in trusts.csv"
    return codes


def build_rows() -> list[Row]:
    """Every trust (site) on every day, ordered by date then trusts.csv order."""
    cal = Calendar()
    n = len(cal.days)
    units: list[tuple[str, str | None, dict[str, np.ndarray], dict[str, list[int | None]], np.ndarray,
                      np.ndarray | None]] = []
    for i, org in enumerate(trust_codes()):
        rng, p = np.random.default_rng([SEED, i]), PROFILES[org]  # one stream per trust: stable if others change
        pressure = 2.3 + 1.3 * cal.winter + 10 * (p.occupancy - 0.91) + 3 * p.trend * cal.progress + ar1(rng, n, 0.25)
        trust_opel = opel_chain(rng, pressure)
        la_opel = opel_chain(rng, pressure + 0.3) if p.la_opel else None  # social care often the tighter
        overflow = {cal.days.index(date.fromisoformat(d)): k for (o, d), k in OVERFLOW.items() if o == org}
        drd_rng, first = np.random.default_rng([SEED, i, 1]), cal.days.index(DRD_LATER.get(org, DRD_START))
        for site, share, offset in SITES.get(org, ((None, 1.0, 0.0),)):
            series = simulate_site(rng, p, share, offset, cal, overflow)
            units.append((org, site, series, simulate_drd(drd_rng, p, series, cal, first), trust_opel, la_opel))
    return [{"period_date": day, "org_code": org, "site_code": site,
             **{c: int(v[d]) for c, v in series.items()}, **{c: v[d] for c, v in drd.items()},
             "trust_opel": int(topel[d]), "la_opel": None if lopel is None else int(lopel[d])}
            for d, day in enumerate(cal.days) for org, site, series, drd, topel, lopel in units]


REJECTED, WARNED = "rejected", "loaded with a warning"
# (org, site, day of September 2025, changes, what the row breaks, expected outcome). Each row starts as
# the sample's row for that org/site/day, so the named flaw is the only thing wrong with it.
FLAWS = (
    ("RWA", None, 22, {"discharges_p3": -2}, "negative count: discharges_p3 = -2", REJECTED),
    ("RJL", None, 22, {"los_21plus": lambda r: r["los_14plus"] + 4}, "los_21plus > los_14plus", REJECTED),
    ("RTR", None, 22, {"los_14plus": lambda r: r["los_7plus"] + 6}, "los_14plus > los_7plus", REJECTED),
    ("RCB", "RCB55", 22, {"los_7plus": lambda r: r["ga_beds_occupied"] + 5}, "los_7plus > ga_beds_occupied", REJECTED),
    ("RXP", None, 23, {"covid_beds_occupied": lambda r: r["ga_beds_occupied"] + 3},
     "covid_beds_occupied > ga_beds_occupied", REJECTED),
    ("RR7", None, 23, {"nctr_discharged_by_5pm": lambda r: r["nctr_discharged"] + 3},
     "nctr_discharged_by_5pm > nctr_discharged", REJECTED),
    ("RTD", None, 23, {"nctr_discharged": lambda r: r["nctr_patients"] + 5},
     "nctr_discharged > nctr_patients", REJECTED),
    ("RAE", None, 23, {"trust_opel": 5}, "trust_opel = 5 (OPEL is 1-4)", REJECTED),
    ("RR8", None, 24, {"la_opel": 0}, "la_opel = 0 (OPEL is 1-4)", REJECTED),
    ("RXF", None, 24, {"period_date": "01/01/2099"}, "date in the future: 01/01/2099", REJECTED),
    ("RWY", None, 24, {"org_code": "ZZZ"}, "unknown ODS code ZZZ", REJECTED),
    ("RCF", None, 25, {}, "duplicate trust/site/day: RCF 25/09/2025, first of two", REJECTED),
    ("RCF", None, 25, {"nctr_patients": lambda r: r["nctr_patients"] + 2},
     "duplicate trust/site/day: RCF 25/09/2025, second of two (different values)", REJECTED),
    ("RCB", "RCBCA", 25, {"discharges_p1": None}, "blank required value: discharges_p1", REJECTED),
    ("RTD", None, 26, {"discharges_p2": "twelve"}, 'non-numeric count: discharges_p2 = "twelve"', REJECTED),
    ("RAE", None, 26, {"period_date": "31/02/2025"}, "impossible date: 31/02/2025", REJECTED),
    ("RXF", None, 26, {"ga_beds_occupied": lambda r: r["ga_beds_open"] + 4},
     "ga_beds_occupied > ga_beds_open (extreme escalation; legal)", WARNED),
)
GOOD_ORG, FLAWED_STYLE = "RCD", Style(dates="%d/%m/%Y")  # good rows: Harrogate, 13-30 Sep 2025
FLAWED_README = """# sitrep_flawed.csv: one flaw per row

Generated by `sample_data/generate.py` (do not edit by hand). Plain UTF-8, LF line endings, canonical
snake_case header on line 1, dates dd/mm/yyyy. Line numbers are as a text editor shows them.

Every even line is a good row: {good} (Harrogate), 13 to 30 September 2025, identical to the main sample's
row for that day, so loading this file after the sample supersedes those rows with the same values. Each
odd line from 3 is a bad row: it starts as the sample's row for its trust/site/day and changes only the
named value. Rejected rows leave the sample's row in place; the warning row (line {warn}) supersedes the
sample's row for that trust/day with occupied above open. The duplicate pair (lines {dups}) shares one
key with different values, so neither can be trusted: both are rejected.

| line | org_code | site_code | period_date | what it breaks | expected outcome |
|---|---|---|---|---|---|
{table}

Expected totals: {loaded} rows loaded ({warned} of them with a warning), {rejected} rejected.
"""


def write_flawed(out_dir: Path, rows: list[Row]) -> None:
    """One good row before each flaw and one after the last, so every bad row sits alone."""
    out_dir.mkdir(parents=True, exist_ok=True)
    sample = {(r["org_code"], r["site_code"], r["period_date"]): r for r in rows}
    good = [(sample[(GOOD_ORG, None, date(2025, 9, d))], "nothing (good row)", "loaded") for d in range(13, 31)]
    lines = [good[0]]
    for k, (org, site, day, changes, breaks, outcome) in enumerate(FLAWS, start=1):
        row = dict(sample[(org, site, date(2025, 9, day))])
        row.update({c: v(row) if callable(v) else v for c, v in changes.items()})
        lines += [(row, breaks, outcome), good[k]]
    write_csv(out_dir / "sitrep_flawed.csv", [r for r, _, _ in lines], FLAWED_STYLE, date(2025, 9, 1))
    table = [f"| {n} | {r['org_code']} | {r['site_code'] or ''} | {cell(r['period_date'], FLAWED_STYLE)} | {b} | {o} |"
             for n, (r, b, o) in enumerate(lines, start=2)]
    outcomes = [o for _, _, o in lines]
    (out_dir / "README.md").write_text(FLAWED_README.format(
        good=GOOD_ORG, table="\n".join(table), warn=2 + outcomes.index(WARNED),
        dups=" and ".join(str(n) for n, (_, b, _) in enumerate(lines, start=2) if b.startswith("duplicate")),
        loaded=len(lines) - outcomes.count(REJECTED), warned=outcomes.count(WARNED),
        rejected=outcomes.count(REJECTED)), encoding="utf-8")


def generate(out_dir: Path) -> None:
    """Write sitrep/ (the main sample) and flawed/ under out_dir."""
    rows = build_rows()
    write_sitreps(Path(out_dir) / "sitrep", rows)
    write_flawed(Path(out_dir) / "flawed", rows)


if __name__ == "__main__":
    generate(Path(__file__).resolve().parent)
