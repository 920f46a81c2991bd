"""The weekly table's cells are kept between reruns (meeting_html.cell_html is cached): a cell whose figure,
status, marks, comment or group differs must never be drawn with another cell's HTML."""
from __future__ import annotations

import dataclasses

from pipelines.reports.meeting_html import cell_html
from pipelines.reports.presentation import TableCell

CELL = TableCell("RCD", "Harrogate", "stranded_7plus_pct", 12.5, "green", previous_value=13.0, change=-0.5,
                 change_direction="better", variation="improvement_low", assurance="pass")


def test_a_kept_cell_is_the_html_it_would_be_drawn_as_afresh() -> None:
    cell_html.cache_clear()
    changed = [dataclasses.replace(CELL, value=31.0, status="red"), dataclasses.replace(CELL, days_with_data=5),
               dataclasses.replace(CELL, variation="concern_high"), dataclasses.replace(CELL, org_code=None)]
    for cell in [CELL, *changed]:
        for comment, group in (("", None), ("Place lead's comment (Sam): ward closed", None), ("", "york")):
            assert cell_html(cell, comment, group) == cell_html.__wrapped__(cell, comment, group)
    drawn = {cell_html(cell) for cell in [CELL, *changed]}
    assert len(drawn) == 1 + len(changed)  # each different cell its own HTML
    assert cell_html(dataclasses.replace(CELL)) is cell_html(CELL)  # an equal cell (a rerun's copy): kept
