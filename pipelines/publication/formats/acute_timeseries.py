"""NHS England's national Acute Discharge SitRep time series: England only, 'Daily Series' (Table 2's
measures and destinations per day) and 'Weekly Series' (bed days lost and delay reasons per week),
read in ``pipelines.publication.timeseries``."""
from __future__ import annotations

from pipelines.publication.authentic import check_adds_up
from pipelines.publication.formats import discharge
from pipelines.publication.formats.base import Format, workbook
from pipelines.publication.tables import TIMESERIES
from pipelines.publication.timeseries import read_timeseries

FORMAT = Format(
    kind=TIMESERIES, described="the national time series ('Daily Series')",
    detect=lambda probe: discharge.acute_workbook_kind(probe) == TIMESERIES,
    read=lambda content: discharge.finish(read_timeseries(workbook(content))),
    store=discharge.store, ddl=discharge.DDL, check=check_adds_up)
