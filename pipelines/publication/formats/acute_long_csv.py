"""NHS England's long CSV of the Acute Discharge SitRep (2024 on): ``Level, Region, ICB, Org Code, Org Name,
Period, Metric, Metric Type, Metric Group, Value``, read in ``pipelines.publication.long_csv``."""
from __future__ import annotations

from pipelines.publication.authentic import check_adds_up
from pipelines.publication.formats import discharge
from pipelines.publication.formats.base import Format, Probe
from pipelines.publication.long_csv import LONG_CSV_REQUIRED, read_long_csv
from pipelines.publication.tables import LONG_CSV


def _detect(probe: Probe) -> bool:
    return probe.header is not None and set(probe.header) >= LONG_CSV_REQUIRED


FORMAT = Format(
    kind=LONG_CSV,
    described="the long CSV with columns Level, Region, ICB, Org Code, Org Name, Period, Metric, Metric Type, "
              "Metric Group, Value",
    detect=_detect, read=lambda content: discharge.finish(read_long_csv(content)),
    store=discharge.store, ddl=discharge.DDL, check=check_adds_up)
