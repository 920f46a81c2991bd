"""How figures are written: the compact cells, the one change formatter, the long words of the
details, colours people can tell apart (deuteranopia too) and read (contrast), and the HTML table."""
from __future__ import annotations

import re
from html.parser import HTMLParser

import polars as pl
import pytest
from helpers import trust_table

from pipelines.reports.meeting_html import (
    INK,
    LINK,
    MIN_CELL_PX,
    SQUEEZE_COLUMNS,
    drilldown_href,
    key_html,
    table_html,
)
from pipelines.reports.presentation import (
    SPC_COLOUR,
    STATUS_FILL,
    TableCell,
    format_ambition,
    format_change,
    format_delta,
    format_value,
    headline_figures,
)
from pipelines.reports.weekly_table import has_figures, metric_rows


@pytest.mark.parametrize("value, unit, text", [(39.16, "%", "39.2%"), (1352.4, "patients", "1,352"),
                                               (3.0, "level", "3"), (None, "%", "not reported")])
def test_format_value(value, unit, text):
    assert format_value(value, unit) == text


@pytest.mark.parametrize("change, direction, unit, text, signed", [
    (2.04, "worse", "%", "⬆ 2.0 pts worse", "+2.0 pts, worse"),  # the key's marks: ⬆ ⬇ worse, ↑ ↓ better
    (-1.5, "worse", "%", "⬇ 1.5 pts worse", "-1.5 pts, worse"),
    (-10, "better", "%", "↓ 10.0 pts better", "-10.0 pts, better"),
    (0.02, "worse", "%", "no change", "no change"),
    (0, "same", "level", "no change", "no change"),
    (0.3, "worse", "patients", "no change", "no change"),  # never "+0, worse" beside "no change"
    (-22, "better", "patients", "↓ 22 better", "-22, better"),
    (None, None, "%", "", "")])
def test_one_change_formatter(change, direction, unit, text, signed):
    assert format_change(change, direction, unit) == text
    assert format_delta(change, direction, unit) == signed


def test_format_ambition():
    assert format_ambition("<=", 92.0, "%") == "≤ 92%"
    assert format_ambition("<", 40.0, "%") == "< 40%"
    assert format_ambition(None, None, "%") == "none"


def cell(**overrides) -> TableCell:
    values = dict(org_code="RCD", name="Harrogate", metric="stranded_7plus_pct", value=52.04, status="red",
                  previous_value=49.0, change=3.04, change_direction="worse", variation="concern_high",
                  assurance="fail")
    return TableCell(**{**values, **overrides})


def test_compact_cell_keeps_the_long_words_for_the_details():
    harrogate = cell()
    assert (harrogate.text, harrogate.marks) == ("52%", "✗ ⬆ ▼")  # ⬆: up and worse; ▼: special-cause concern
    assert harrogate.details == ("Harrogate, Stranded 7+ days: 52.0%. ✗ misses the ambition. "
                                 "3.0 pts worse than last week (49.0%). SPC: Special cause concern (high); "
                                 "consistently failing the ambition.")
    better = cell(value=38.0, status="green", change=-2.0, change_direction="better", variation="common_cause",
                  assurance=None, days_with_data=4)
    assert (better.text, better.marks) == ("38%", "✓ ↓ 4d")  # ↓: down and better; common cause: no mark
    improving = cell(value=38.0, status="green", variation="improvement_low")
    assert improving.marks == "✓ ⬆ ▲"  # ▲: special-cause improvement, whichever way the figures moved
    # a change too small to show gets no arrow, as its words say "no change"
    assert cell(change=0.04).marks == "✗ ▼" and "no change on last week" in cell(change=0.04).details
    assert "4 of 7 days of data" in better.details


def test_recorded_delays_show_count_and_percentage_change_as_the_seed_table():
    delays = cell(metric="recorded_delays", value=163.0, previous_value=209.0, change=-46.0, change_direction="better",
                  status="none", variation=None, assurance=None)
    assert delays.text == "163, -22%"
    assert delays.marks == "↓"  # no ambition and no SPC reading: only the change, down and better


def test_sites_are_named_in_the_details():
    york = cell(org_code="RCB", name="York and Scarborough",
                sites=(("York Hospital", 38.0), ("Scarborough Hospital", 41.0)))
    assert york.site_text == "York Hospital 38% / Scarborough Hospital 41%"
    assert "by site: York Hospital 38% / Scarborough Hospital 41%" in york.details


def test_no_submission_is_a_dash_never_a_zero():
    missing = TableCell("RTR", "South Tees", "stranded_7plus_pct", None, "none", submitted=False)
    assert (missing.text, missing.marks) == ("–", "")
    assert missing.details == "South Tees, Stranded 7+ days: no submission this week."


# --- colours -----------------------------------------------------------------------------------
# Machado, Oliveira and Fernandes (2009), deuteranopia at severity 1.0, on linear RGB.
DEUTERANOPIA = ((0.367322, 0.860646, -0.227968), (0.280085, 0.672501, 0.047413), (-0.011820, 0.042940, 0.968881))


def _linear(hex_colour: str) -> list[float]:
    channels = [int(hex_colour.lstrip("#")[i:i + 2], 16) / 255 for i in (0, 2, 4)]
    return [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]


def _luminance(rgb: list[float]) -> float:
    return 0.2126 * rgb[0] + 0.7152 * rgb[1] + 0.0722 * rgb[2]


def _deuteranope(rgb: list[float]) -> list[float]:
    return [min(1.0, max(0.0, sum(m * c for m, c in zip(row, rgb, strict=True)))) for row in DEUTERANOPIA]


def contrast(a: float, b: float) -> float:
    return (max(a, b) + 0.05) / (min(a, b) + 0.05)


@pytest.mark.parametrize("first, second", [("green", "amber"), ("amber", "red"), ("green", "red")])
def test_status_fills_differ_in_lightness_for_a_deuteranope(first, second):
    """The old fills were 1.03:1 apart for a deuteranope; these differ in lightness, not hue alone."""
    one, two = _linear(STATUS_FILL[first]), _linear(STATUS_FILL[second])
    assert contrast(_luminance(one), _luminance(two)) >= 1.25
    assert contrast(_luminance(_deuteranope(one)), _luminance(_deuteranope(two))) >= 1.25


@pytest.mark.parametrize("ink", [INK, LINK])
@pytest.mark.parametrize("status", ["green", "amber", "red", "none"])
def test_every_text_colour_is_readable_on_every_fill(ink, status):
    assert contrast(_luminance(_linear(ink)), _luminance(_linear(STATUS_FILL[status]))) >= 4.5


@pytest.mark.parametrize("kind", SPC_COLOUR)
@pytest.mark.parametrize("status", ["green", "none"])  # on amber and red fills the marks are in INK
def test_spc_marks_are_readable_on_the_pale_fills(kind, status):
    assert contrast(_luminance(_linear(SPC_COLOUR[kind])), _luminance(_linear(STATUS_FILL[status]))) >= 4.5


# --- the HTML table --------------------------------------------------------------------------

def position_row(org_code: str, trust: str, **overrides) -> dict:
    row = {"org_code": org_code, "trust": trust, "metric": "stranded_7plus_pct", "value": 52.0, "unit": "%",
           "status": "red", "previous_value": 49.0, "change": 3.0, "change_direction": "worse", "days_with_data": 7,
           "ambition": 40.0, "ambition_comparison": "<", "variation": None, "assurance": None}
    return {**row, **overrides}


class _Cells(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.links: list[dict[str, str | None]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag == "a":
            self.links.append(dict(attrs))

    def handle_data(self, data):
        self.text.append(data)


def test_table_html_links_every_cell_to_the_drilldown_and_escapes_text():
    trusts = pl.DataFrame({"org_code": ["RCD", "RTR"], "trust": ['<b>Harrogate</b> & "co"', "South Tees"]})
    position = pl.DataFrame([position_row("RCD", '<b>Harrogate</b> & "co"')])
    system = pl.DataFrame([{**position_row("RCD", "x"), "org_code": None}])
    rows = metric_rows(position, system, trusts)
    html = table_html(rows, list(trusts.iter_rows()), comments={("stranded_7plus_pct", "RCD"): "<script>x</script>"})
    assert "<b>Harrogate" not in html and "<script>x" not in html  # text from files and users is escaped
    parsed = _Cells()
    parsed.feed(html)
    hrefs = [link["href"] for link in parsed.links]
    assert drilldown_href("RCD", "stranded_7plus_pct") == "trust?trust=RCD&metric=stranded_7plus_pct"
    assert hrefs == ["trust?trust=RCD", "trust?trust=RTR", "trust?trust=RCD&metric=stranded_7plus_pct",
                     "trust?trust=RTR&metric=stranded_7plus_pct"]
    harrogate = parsed.links[2]
    assert harrogate["title"].startswith('<b>Harrogate</b> & "co", Stranded')
    assert "<script>x</script>" in harrogate["title"]
    assert "aria-label" not in harrogate  # its name is what it shows (label in name); the words are its title
    text = " ".join(t.strip() for t in parsed.text if t.strip() and not t.lstrip().startswith((".", "}")))
    text = text.split(" Key: ")[0]  # the table, without the key under it
    assert "⬆\ufe0e" in text  # the heavy arrow asked for as text, never a colour emoji
    text = text.replace("\ufe0e", "")
    # the combined column, Harrogate (with the comment's mark), then South Tees, which sent nothing
    assert text.endswith("Stranded 7+ days < 40% 52% ✗ ⬆ 52% ✗ ⬆ ✎ –"), text


@pytest.mark.parametrize("orientation", ["columns", "rows"])
def test_drilldown_links_carry_the_discharge_group(orientation):
    """The drill-down showed the 'all' group's comments whichever group's table it was opened from."""
    trusts = pl.DataFrame({"org_code": ["RCD"], "trust": ["Harrogate"]})
    rows = metric_rows(pl.DataFrame([position_row("RCD", "Harrogate")]), pl.DataFrame(), trusts)
    parsed = _Cells()
    parsed.feed(table_html(rows, list(trusts.iter_rows()), orientation, group="york-harrogate-tees-airedale"))
    assert sorted(link["href"] for link in parsed.links) == [
        "trust?trust=RCD&group=york-harrogate-tees-airedale",
        "trust?trust=RCD&metric=stranded_7plus_pct&group=york-harrogate-tees-airedale"]


def test_trusts_as_rows_has_one_row_per_trust_and_the_combined_row_first():
    trusts = pl.DataFrame({"org_code": ["RCD", "RTR"], "trust": ["Harrogate", "South Tees"]})
    position = pl.DataFrame([position_row("RCD", "Harrogate")])
    system = pl.DataFrame([{**position_row("RCD", "x"), "org_code": None}])
    html = table_html(metric_rows(position, system, trusts), list(trusts.iter_rows()), orientation="rows")
    assert re.findall(r'<th scope="row"[^>]*>(?:<a [^>]*>)?([^<]+)', html) == ["Combined", "Harrogate", "South Tees"]


def test_headline_tiles_use_the_one_change_formatter():
    system = pl.DataFrame([{**position_row("RCD", "x"), "metric": "recorded_delays", "unit": "patients",
                            "metric_label": "Recorded delays (daily average)", "better": "lower", "change": 0.3,
                            "status": "none", "ambition": None, "ambition_comparison": None}])
    [tile] = headline_figures(system, ("recorded_delays",))
    assert system["change_direction"].to_list() == ["worse"]  # the raw change, +0.3 of a patient
    # ... reads "no change", so the tile draws no arrow (was "↑ no change" on the drill-down)
    assert (tile["short_label"], tile["delta"], tile["direction"]) == ("Recorded delays", "no change", "same")


def test_trusts_as_rows_shows_site_figures_under_a_trust_that_submits_per_site():
    trusts = pl.DataFrame({"org_code": ["RCB"], "trust": ["York and Scarborough"]})
    position = pl.DataFrame([position_row("RCB", "York and Scarborough", value=38.0)])
    sites = pl.DataFrame({"org_code": ["RCB", "RCB"], "site_code": ["RCB55", "RCBCA"],
                          "metric": ["stranded_7plus_pct"] * 2, "value": [50.0, 20.0]})
    rows = metric_rows(position, position.clear(), trusts, sites, {"RCB55": "York Hospital"})
    html = table_html(rows, list(trusts.iter_rows()), orientation="rows")
    assert re.findall(r'<th scope="row" class="wt-site">↳ ([^<]+)</th><td class="wt-site">([^<]+)</td>', html) == [
        ("York Hospital", "50%"), ("RCBCA", "20%")]  # a site missing from sites.csv shows its code


def test_the_key_explains_every_mark_a_cell_can_show():
    """A projector audience reads the key, not the README: 'n/r' and '–' were in cells but not in it."""
    key = key_html()
    for mark, words in [("✓", "meets"), ("!", "just misses"), ("✗", "misses"), ("↑ ↓", "better"), ("⬆ ⬇", "worse"),
                        ("▲", "improvement"),
                        ("▼", "concern"), ("±", "mixed"), ("✎", "comment"), ("4d", "4 of 7 days"),
                        ("n/r", "not reported"), ("–", "no submission")]:
        assert mark in key and words in key, mark



def column_widths(html: str) -> list[int]:
    return [int(w) for w in re.findall(r'<col (?:class="wt-c" )?style="width:(\d+)px">', html)]


def test_a_squeezable_table_keeps_its_columns_sharing_the_width():
    """13 trusts and Combined share a laptop's width, as before: no fixed widths, no scrolling box."""
    table = trust_table([f"Trust {i}" for i in range(SQUEEZE_COLUMNS - 1)])
    html = table_html(table.rows, list(table.trusts.iter_rows()))
    assert column_widths(html) == [124, 58, 80] and 'class="wt-wrap"' in html  # Combined's a little wider


def test_many_trusts_get_columns_as_wide_as_their_longest_word_in_a_box_that_keeps_the_header():
    """119 trusts were squeezed to 56 px a column: "Combine / d", "Blackpoo / l", "Buckingh / amshire"."""
    names = ["Blackpool", "Buckinghamshire Healthcare", "Barts Health"] * 40
    table = trust_table(names)
    html = table_html(table.rows, list(table.trusts.iter_rows()))
    combined, *widths = column_widths(html)[2:]
    assert 'class="wt-wrap wt-scroll"' in html  # scrolls inside a box of the window's height, header pinned
    assert widths[:3] == [9 * 7 + 8, 15 * 7 + 8, MIN_CELL_PX] and combined == 8 * 7 + 8
    assert f"min-width:{124 + 58 + combined + sum(widths)}px" in html  # wider than the page: it scrolls sideways


def test_trusts_as_rows_keeps_each_metric_label_whole():
    """The metrics' short labels broke mid-word ("occupanc / y") with trusts as rows."""
    table = trust_table(["Harrogate", "Hull"])
    html = table_html(table.rows, list(table.trusts.iter_rows()), orientation="rows")
    labels = [f"{r.short_label} {r.ambition}" for r in table.rows]
    for label, width in zip(labels, column_widths(html)[1:], strict=True):
        longest = max(len(w) for w in re.split(r"\s+|(?<=-)", label))
        assert width >= longest * 7 + 8, (label, width)
    assert 'class="wt-wrap"' in html  # two trusts: no scrolling box
    assert 'class="wt-wrap wt-scroll"' in table_html(trust_table(["Hull"] * 15).rows,
                                                     list(trust_table(["Hull"] * 15).trusts.iter_rows()), "rows")


def test_a_row_with_no_figure_for_any_shown_trust_is_named_not_shown():
    """The all-England table was 15 of 17 rows of "n/r": such a row is left out and named under the key."""
    trusts = pl.DataFrame({"org_code": ["RCD", "RTR"], "trust": ["Harrogate", "South Tees"]})
    position = pl.DataFrame([position_row("RCD", "Harrogate"),
                             position_row("RCD", "Harrogate", metric="la_opel_max", value=None, unit="level")])
    rows = metric_rows(position, position.clear(), trusts)
    assert [(r.short_label, has_figures(r)) for r in rows] == [("Stranded 7+ days", True), ("LA OPEL", False)]
    html = table_html([r for r in rows if has_figures(r)], list(trusts.iter_rows()), hidden=("LA OPEL",))
    assert "Not shown: no figures for these trusts: LA OPEL." in html and ">LA OPEL<" not in html
    assert "Not shown" not in table_html(rows, list(trusts.iter_rows()))
