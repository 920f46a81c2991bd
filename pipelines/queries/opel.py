"""Read-only questions the OPEL page asks of the warehouse (docs/domain.md section 4). No Streamlit here.

The trusts shown are those with any sitrep data at all, so a trust that stopped submitting
still appears (as days with no submission) instead of silently dropping out of the picture.
"""
from __future__ import annotations

from datetime import date, timedelta

import duckdb
import polars as pl

# Every trust that has ever submitted, with its reference details (a code missing from the
# reference table still shows, under its code). From the loaded rows: the trust-day view would roll up
# every day of the history only to list the trusts.
_TRUSTS = """
    SELECT s.org_code, coalesce(t.short_name, s.org_code) AS trust,
        coalesce(t.icb_name, 'ICB not recorded') AS icb_name,
        coalesce(t.local_authority, 'local authority not recorded') AS local_authority
    FROM (SELECT DISTINCT org_code FROM sitrep_daily) s LEFT JOIN trusts t USING (org_code)
"""


DEFAULT_WEEKS = 4  # the page opens on this many latest weeks of data: a column a day fits a laptop's width
WEEK_CHOICES = (2, 4, 8, 13, 26)  # more weeks: the grid scrolls sideways


def first_day(last: date, weeks: int = DEFAULT_WEEKS) -> date:
    """The Monday that starts ``weeks`` whole Monday-to-Sunday weeks before ``last``'s own week (or up to
    ``last``, a Sunday): the grid's week headings are whole weeks, as the meeting reviews them, and the days
    of a week in progress come after them."""
    monday = last - timedelta(days=last.weekday())
    return monday - timedelta(weeks=weeks - 1 if last.weekday() == 6 else weeks)


# The queries' parameters: $1 the chosen trusts, $2 and $3 the first and last day.
# A discharge group's trusts (``pipelines.groups``), or every trust with data when the group lists none.
_CHOSEN = "(len($1::VARCHAR[]) = 0 OR c.org_code IN (SELECT unnest($1::VARCHAR[])))"
# The trust-days of those days with their OPEL levels, as the trust-day view rolls them up (a trust-day of several
# rows, sites or sources, takes the highest level): from those days' rows alone, where a filter on the view still
# groups every day of the history to find the trust-days of several rows.
_TRUST_DAYS = """(SELECT org_code, period_date, max(trust_opel) AS trust_opel, max(la_opel) AS la_opel
    FROM sitrep_daily WHERE period_date BETWEEN $2::DATE AND $3::DATE GROUP BY org_code, period_date)"""


def daily_opel(con: duckdb.DuckDBPyConnection, first: date, last: date, org_codes: tuple[str, ...]) -> pl.DataFrame:
    """Every trust of ``org_codes`` (none: every trust) by every day from ``first`` to ``last``: a full
    grid, so a day without a submission is a row with ``submitted`` false rather than a missing row.
    Sorted by ICB, trust and day: the grid's row order."""
    return con.sql(f"""
        WITH chosen AS (SELECT * FROM ({_TRUSTS}) c WHERE {_CHOSEN}),
        days AS (SELECT CAST(range AS DATE) AS period_date FROM range($2::DATE, $3::DATE + 1, INTERVAL 1 DAY))
        SELECT c.org_code, c.trust, c.icb_name, c.local_authority, d.period_date,
            s.org_code IS NOT NULL AS submitted, s.trust_opel, s.la_opel
        FROM chosen c CROSS JOIN days d
        LEFT JOIN {_TRUST_DAYS} s ON s.org_code = c.org_code AND s.period_date = d.period_date
        ORDER BY c.icb_name, c.trust, c.org_code, d.period_date
    """, params=[list(org_codes), first, last]).pl()


def opel_counts(con: duckdb.DuckDBPyConnection, first: date, last: date, org_codes: tuple[str, ...]) -> pl.DataFrame:
    """Per trust of ``org_codes`` (none: every trust), over ``first`` to ``last``: days reported, days at
    OPEL 3 and at 4 (exactly that level), the highest level, and the same for the local authority's OPEL.
    Most days at OPEL 4 first, then most at 3."""
    return con.sql(f"""
        SELECT c.icb_name, c.trust, c.org_code, c.local_authority,
            count(s.trust_opel) AS days_reported,
            count(*) FILTER (WHERE s.trust_opel = 3) AS days_opel_3,
            count(*) FILTER (WHERE s.trust_opel = 4) AS days_opel_4,
            max(s.trust_opel) AS highest_opel,
            count(s.la_opel) AS la_days_reported,
            count(*) FILTER (WHERE s.la_opel = 3) AS la_days_opel_3,
            count(*) FILTER (WHERE s.la_opel = 4) AS la_days_opel_4,
            max(s.la_opel) AS la_highest_opel
        FROM ({_TRUSTS}) c
        LEFT JOIN {_TRUST_DAYS} s ON s.org_code = c.org_code
        WHERE {_CHOSEN}
        GROUP BY ALL
        ORDER BY days_opel_4 DESC, days_opel_3 DESC, highest_opel DESC NULLS LAST, c.icb_name, c.trust
    """, params=[list(org_codes), first, last]).pl()
