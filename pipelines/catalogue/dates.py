"""How dates are written for people: one place, UK forms only (the GUIDE: dd/mm/yyyy or "7 Apr 2024").

Each form has its own name, a function for one date and a format string for Polars ``dt.strftime``
and Plotly ``tickformat`` (the same strftime codes), so a frame or chart axis is written as the text is.
"""
from __future__ import annotations

from datetime import date, datetime

DATE = "%d/%m/%Y"  # 07/04/2024
DAY = "%a %d/%m/%Y"  # Sun 07/04/2024
DATE_WORDS = "%-d %b %Y"  # 7 Apr 2024
MONTH = "%b %Y"  # Apr 2024
AXIS_DATE_WORDS = "%d %b %Y"  # 07 Apr 2024: Plotly's axis ticks have no "%-d"
TIMESTAMP = "%d/%m/%Y %H:%M"  # 07/04/2024 14:05


def uk_date(day: date) -> str:
    """'07/04/2024'."""
    return day.strftime(DATE)


def uk_day(day: date) -> str:
    """'Sun 07/04/2024': the weekday too, where it matters (a week ends on a Sunday)."""
    return day.strftime(DAY)


def uk_month(day: date) -> str:
    """'Apr 2024'."""
    return day.strftime(MONTH)


def uk_timestamp(moment: datetime) -> str:
    """'07/04/2024 14:05' (UK local time, as every stored time is: ``pipelines.config.uk_now``)."""
    return moment.strftime(TIMESTAMP)
