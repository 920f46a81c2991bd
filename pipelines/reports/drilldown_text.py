"""The drill-down's figures in words: the counts behind a ratio and the related metrics, week by
week, as the trust page shows them (the figures come from pipelines.queries.drilldown)."""
from __future__ import annotations

from datetime import date, timedelta

import polars as pl

from pipelines.catalogue.dates import uk_date, uk_day
from pipelines.catalogue.metrics import METRICS, Metric
from pipelines.reports.presentation import NHS_GREEN, NHS_INK, NHS_RED, NHS_SECONDARY_TEXT, NOT_REPORTED, format_value
from pipelines.safe_text import html_text
from pipelines.spc.explain import capitalised, count_text, per_day

_BY_ID: dict[str, Metric] = {m.id: m for m in METRICS}
# The related figures' table, in the look of Streamlit's own tables: plain HTML, so the drill-down's first
# screen does not load the browser's Arrow table code (about 1 MB of JavaScript) for twelve short rows.
TABLE_STYLE = f"""<style>
.rt {{ border-collapse: collapse; width: calc(100% - 1px); font-size: 0.875rem; color: {NHS_INK}; }}
.rt th, .rt td {{ border: 1px solid rgba(49, 51, 63, 0.1); padding: 0.25rem 0.375rem; text-align: left;
  font-weight: 400; line-height: 1.5; }}
.rt thead th, .rt tbody th {{ color: {NHS_SECONDARY_TEXT}; }}
</style>"""


# The week's headline tiles as one block of HTML, in the look of st.metric with a border: six st.metric, each in
# a column with a caption, were 19 elements for the browser to lay out on every visit, about a third of the
# first screen's (issue 24). A list of tiles, each headed by its short label; better or worse is in words.
TILES_STYLE = f"""<style>
ul.tiles {{ display: grid; grid-template-columns: repeat(auto-fit, minmax(9.5rem, 1fr)); gap: 1rem;
  list-style: none; margin: 0 !important; padding: 0 !important; color: {NHS_INK}; }}
ul.tiles > li {{ margin: 0 !important; padding: 0 !important; }}
.tiles .tile {{ border: 1px solid rgba(49, 51, 63, 0.2); border-radius: 0.5rem; padding: calc(1em - 1px);
  break-inside: avoid; }}
.tiles h4 {{ font-size: 0.875rem; font-weight: 400; line-height: 1.4; color: {NHS_SECONDARY_TEXT}; margin: 0;
  padding: 0 0 0.25rem 0; }}
.tiles .value {{ font-size: 2.25rem; line-height: 1.2; margin: 0; padding-bottom: 0.25rem; }}
.tiles .change {{ font-size: 1rem; margin: 0; }}
.tiles .better {{ color: {NHS_GREEN}; }}
.tiles .worse {{ color: {NHS_RED}; }}
.tiles .same {{ color: {NHS_SECONDARY_TEXT}; }}
.tiles .status {{ font-size: 0.875rem; color: {NHS_SECONDARY_TEXT}; margin: 0.5rem 0 0 0; }}
.tiles .full {{ position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0);
  white-space: nowrap; }}
</style>"""


def tiles_html(tiles: list[dict[str, str]], label: str) -> str:
    """``presentation.headline_figures`` as a list of tiles named ``label``: each headed by its short label (a
    screen reader reads the full one; it and the ambition show on hover), the figure, the change on the week
    before with an arrow following its sign, coloured better (green) or worse (red) as its words say, and the
    status."""
    items = []
    for tile in tiles:
        delta, direction = tile["delta"], tile["direction"]
        change = ""
        if delta:
            same = direction in ("", "same")
            arrow = "" if same else '<span aria-hidden="true">{}</span> '.format("↑" if delta.startswith("+") else "↓")
            change = f'<p class="change {"same" if same else direction}">{arrow}{html_text(delta)}</p>'
        status = f"{tile['status']} ({tile['ambition']})" if tile["status"] else "No national ambition"
        hover = f"{tile['label']}. Ambition: {tile['ambition']}."
        items.append(f'<li><div class="tile" title="{html_text(hover)}">'
                     f'<h4><span aria-hidden="true">{html_text(tile["short_label"])}</span>'
                     f'<span class="full">{html_text(tile["label"])}</span></h4>'
                     f'<p class="value">{html_text(tile["value"])}</p>{change}'
                     f'<p class="status">{html_text(status)}</p></div></li>')
    return f'{TILES_STYLE}<ul class="tiles" aria-label="{html_text(label)}">{"".join(items)}</ul>'


def related_table(weekly: pl.DataFrame, metric: Metric, up_to: date, weeks: int = 4) -> pl.DataFrame:
    """The trust's ``weeks`` weeks of ``weekly`` (its ``weekly_position`` rows, every metric) up to the
    summary week ``up_to``, to read across: the metric's counts a day (a ratio's numerator and
    denominator), the metric, then the catalogue's related metrics (``Metric.related``); ``Figure`` then
    a column per week ending (dd/mm/yyyy), the figures as text ('not reported' where a week has none)."""
    week_endings = sorted(weekly.filter(pl.col("week_ending") <= up_to)["week_ending"].unique().to_list())[-weeks:]
    columns = [uk_date(w) for w in week_endings]

    def row(label: str, values: dict[date, str]) -> dict[str, str]:
        return {"Figure": label} | {uk_date(w): values.get(w, NOT_REPORTED) for w in week_endings}

    def rows_of(metric_id: str) -> pl.DataFrame:
        return per_day(weekly.filter((pl.col("metric") == metric_id) & pl.col("week_ending").is_in(week_endings)))

    own = rows_of(metric.id)
    rows = []
    if metric.denominator_text is not None:  # a ratio: its counts first, each an average a day
        for column, words in (("numerator_per_day", metric.numerator_text),
                              ("denominator_per_day", metric.denominator_text)):
            rows.append(row(f"{capitalised(words)} (a day)",
                            {r["week_ending"]: count_text(r[column]) for r in own.iter_rows(named=True)
                             if r[column] is not None}))
    for shown in (metric, *(_BY_ID[m] for m in metric.related)):
        rows.append(row(shown.short_label, {r["week_ending"]: format_value(r["value"], shown.unit)
                                            for r in rows_of(shown.id).iter_rows(named=True)}))
    return pl.DataFrame(rows, schema={"Figure": pl.String, **dict.fromkeys(columns, pl.String)}, orient="row")


def related_table_html(table: pl.DataFrame) -> str:
    """``related_table`` as an HTML table: a header row of its columns, then a row per figure headed by its
    name; every word cleaned and escaped."""
    head = "".join(f'<th scope="col">{html_text(c)}</th>' for c in table.columns)
    rows = "".join(f'<tr><th scope="row">{html_text(name)}</th>{"".join(f"<td>{html_text(v)}</td>" for v in values)}'
                   "</tr>" for name, *values in table.iter_rows())
    return f'{TABLE_STYLE}<table class="rt"><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>'


def week_counts_text(weekly: pl.DataFrame, metric: Metric, week: date) -> str:
    """'Week ending Sun 14/04/2024: 36 patients staying 7+ days a day of 90 occupied G&A beds (40.0%);
    the week before: 45 of 90 (50.0%).' The numerator and denominator behind a ratio's weekly figure,
    per day; empty for a metric without a denominator or a week without figures."""
    if metric.denominator_text is None:
        return ""
    rows = per_day(weekly.filter(pl.col("metric") == metric.id).sort("week_ending"))
    now = rows.filter(pl.col("week_ending") == week)
    if now.is_empty() or now["numerator_per_day"][0] is None:
        return ""
    current = now.row(0, named=True)
    text = (f"Week ending {uk_day(week)}: {count_text(current['numerator_per_day'])} {metric.numerator_text} a day "
            f"of {count_text(current['denominator_per_day'])} {metric.denominator_text} "
            f"({format_value(current['value'], metric.unit)})")
    before = rows.filter(pl.col("week_ending") == week - timedelta(days=7))
    if not before.is_empty() and before["numerator_per_day"][0] is not None:
        earlier = before.row(0, named=True)
        text += (f"; the week before: {count_text(earlier['numerator_per_day'])} of "
                 f"{count_text(earlier['denominator_per_day'])} ({format_value(earlier['value'], metric.unit)})")
    return text + "."
