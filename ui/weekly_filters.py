"""The pickers of the weekly table, shared by the pages that show it (under the same URL keys, so a link
and the table match from one page to the other): the discharge group first, then the week; or, with
"Pick trusts", the ICB, place and trust filters of a selection made by hand (no group: its narratives
are drafts until saved to a group)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import polars as pl
import streamlit as st

from pipelines.groups import ALL_GROUP, Group, current_groups, default_group_id, find_group
from pipelines.queries import weekly
from pipelines.queries.weeks import latest_complete_week, weeks_with_data
from pipelines.reports.weekly_table import WeeklyTable, build_weekly_table, select_trusts
from ui import auth, data, params
from ui.kept import kept

# The layouts of the weekly table (``?view=``): the group's narrative as a last column is one of them (a third
# option of the same picker rather than a toggle of its own: a toggle's code is fetched by every new tab).
ORIENTATIONS = {"columns": "Trusts as columns", "notes": "Trusts as columns + narrative",
                "rows": "Trusts as rows"}
PICK = "pick"  # the group picker's last option: trusts picked by hand

# Chosen ICBs, places and trusts are shown whole (Streamlit cut "Bradford District and Craven" to "Bra…").
_CHIPS_CSS = """<style>
:is(.st-key-icb, .st-key-place, .st-key-trusts) [data-baseweb="tag"] { max-width: none !important; height: auto; }
:is(.st-key-icb, .st-key-place, .st-key-trusts) [data-baseweb="tag"] span { max-width: none !important;
  white-space: normal !important; overflow: visible !important; text-overflow: clip !important; }
</style>"""


@dataclass(frozen=True)
class Selection:
    """What the pickers chose: the table, and the discharge group whose narratives go with it."""
    table: WeeklyTable
    group: Group | None  # None: trusts picked by hand (narratives are drafts until saved to a group)
    icbs: tuple[str, ...] = ()
    places: tuple[str, ...] = ()
    org_codes: tuple[str, ...] = ()  # a group's trusts, or those picked by hand; empty: every trust
    view: str = "columns"  # 'columns': trusts as columns; 'notes': the same with the narrative column; 'rows'

    @property
    def group_id(self) -> str | None:
        return self.group.group_id if self.group else None

    def render_args(self, fmt: str) -> tuple:
        """``export.render``'s arguments after the connection: a download of exactly this selection."""
        return self.table.week_ending, self.icbs, self.places, fmt, self.org_codes, self.group_id

    @property
    def orientation(self) -> str:
        """The table's orientation: 'rows' (trusts as rows) or 'columns' (with or without the narrative)."""
        return "rows" if self.view == "rows" else "columns"

    @property
    def with_notes(self) -> bool:
        """Whether the discharge group's narrative is a last column of the table."""
        return self.view == "notes"

    @property
    def url_group(self) -> str:
        """The group as ``?group=`` names it ('pick' for trusts picked by hand), for links to the drill-down."""
        return self.group_id or PICK

    def describe(self) -> str:
        """'York, Harrogate, South Tees and Airedale' or 'Trusts picked by hand'."""
        return self.group.name if self.group else "Trusts picked by hand"


def _group_label(group: Group | None) -> str:
    if group is None:
        return "Pick trusts by hand (ICB, place, trust)..."
    return group.name if group.is_all else f"{group.name} ({len(group.org_codes)} trusts)"


def _chosen_group(groups: list[Group]) -> str:
    """The group in the URL; an old link with ICB or place filters and no group: picked by hand; else the
    signed-in user's default group (users.csv ``group``, or their role's trusts), else every trust."""
    ids = [g.group_id for g in groups] + [PICK]
    if wanted := params.get_choice("group", ids):
        return wanted
    if st.query_params.get("group"):
        st.warning(f"There is no discharge group {st.query_params['group']!r}: showing your default group.")
    elif st.query_params.get_all("icb") or st.query_params.get_all("place"):
        return PICK
    return default_group_id(auth.current_identity(), groups)


def group_in_use() -> Group | None:
    """The discharge group whose comments a page without the group picker shows (the trust drill-down):
    the one in the URL or the user's default, as the weekly page chooses it; None: trusts picked by hand."""
    groups = data.read(current_groups)
    return find_group(groups, _chosen_group(groups))


def shared_weekly_table(week: date, icbs: tuple[str, ...], places: tuple[str, ...],
                        org_codes: tuple[str, ...]) -> WeeklyTable:
    """The weekly table of a selection, kept (``ui.kept``) as one object every session shares: through
    ``data.read`` alone each page view unpickled its own copy (1.8 MB for every trust), a new tab's cost on the
    server of the weekly and narrative pages. Nothing changes a WeeklyTable (frozen; ``rows_shown`` makes a new one)."""
    return data.read(build_weekly_table, week, icbs, places, org_codes)


def weekly_table_with_filters(orientation: bool = False) -> Selection:
    """Draw the pickers (the group first); return what they select. With ``orientation``, a layout picker
    too ('columns': trusts as columns, 'notes': with the narrative column, or 'rows'). Stops the page with a
    clear message when there is no data or no trust matches."""
    if not data.database_exists() or not (weeks := data.read(weeks_with_data)):
        st.info("No data yet. Load sitrep files with `python -m pipelines ingest PATH` and this page fills in.")
        st.stop()
    groups = data.read(current_groups)
    by_id: dict[str, Group | None] = {g.group_id: g for g in groups} | {PICK: None}
    default_week = data.read(latest_complete_week) or weeks[0]
    columns = st.columns([3, 1.3, 1.3] if orientation else [3, 1.3])
    ids = list(by_id)
    group_id = columns[0].selectbox(
        "Discharge group", ids, index=ids.index(_chosen_group(groups)), format_func=lambda i: _group_label(by_id[i]),
        help="The trusts the group meets over; its narratives are its own. Administrators change groups on the "
             "Weekly narrative page.") or ALL_GROUP
    week = columns[1].selectbox("Week ending (Sunday)", weeks,
                                index=weeks.index(params.get_choice("week", weeks, default_week) or default_week),
                                format_func=lambda d: d.strftime("%a %d/%m/%Y"),
                                help="Weeks run Monday to Sunday. The default is the latest complete week.")
    view = "columns"
    if orientation:
        layouts = list(ORIENTATIONS)
        view = columns[2].selectbox("Layout", layouts, format_func=ORIENTATIONS.__getitem__,
                                    index=layouts.index(params.get_choice("view", layouts) or "columns"),
                                    help="Trusts as rows suits a region of many trusts. \"+ narrative\" adds the "
                                         "discharge group's narrative beside each metric: two lines of it, the "
                                         "whole text on hover or focus.") or "columns"
    group = by_id[group_id]
    chosen = _pick_trusts(data.read(weekly.trusts_with_data)) if group is None else {
        "icb": [], "place": [], "trusts": []}
    params.set_params(group=group_id, week=None if week == default_week else week, **chosen,
                      **({"view": None if view == "columns" else view} if orientation else {}))
    org_codes = group.org_codes if group else tuple(chosen["trusts"])
    icbs, places = tuple(chosen["icb"]), tuple(chosen["place"])
    table = kept(shared_weekly_table, week, icbs, places, org_codes)
    if table.trusts.is_empty():
        st.info("No trust of this group has figures, or no trust matches these filters. Choose another group, "
                "or clear the ICB, place or trust filter.")
        st.stop()
    return Selection(table, group, icbs, places, org_codes, view)


def _pick_trusts(trusts: pl.DataFrame) -> dict[str, list[str]]:
    """The ICB, place and trust filters of a selection made by hand, in one row."""
    st.html(_CHIPS_CSS)
    icb_col, place_col, trust_col = st.columns([1.2, 1.2, 1.6])
    icbs = sorted(set(trusts["icb_name"].drop_nulls()))
    chosen_icbs = icb_col.multiselect("ICB", icbs, default=params.get_list("icb", icbs), placeholder="All ICBs",
                                      key="icb")
    places = sorted(set(select_trusts(trusts, chosen_icbs)["place"].drop_nulls()))
    chosen_places = place_col.multiselect("Place", places, default=params.get_list("place", places),
                                          placeholder="All places", key="place")
    names = dict(select_trusts(trusts, chosen_icbs, chosen_places).select("org_code", "trust").iter_rows())
    chosen_trusts = trust_col.multiselect("Trusts", list(names), default=params.get_list("trusts", list(names)),
                                          format_func=names.__getitem__, placeholder="All of these trusts",
                                          key="trusts")
    return {"icb": chosen_icbs, "place": chosen_places, "trusts": chosen_trusts}
