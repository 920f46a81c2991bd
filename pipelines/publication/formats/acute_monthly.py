"""NHS England's monthly Acute Daily Discharge SitRep workbook (Cover Sheet, Contents, Table 1 ... Table 5,
from 2024 to Table 7, sometimes lookup sheets), read in ``pipelines.publication.workbook``: trust-days
(Table 2), weekly bed days lost (Table 3), the month's discharges by destination (Table 4) and delay reasons
by length of stay (Tables 5 to 7)."""
from __future__ import annotations

from pipelines.publication.authentic import check_adds_up
from pipelines.publication.formats import discharge
from pipelines.publication.formats.base import Format, workbook
from pipelines.publication.tables import MONTHLY
from pipelines.publication.workbook import read_monthly

FORMAT = Format(
    kind=MONTHLY,
    described="the monthly workbook (sheets 'Table 2' ... with 'Number of patients who no longer meet the "
              "criteria to reside')",
    detect=lambda probe: discharge.acute_workbook_kind(probe) == MONTHLY,
    read=lambda content: discharge.finish(read_monthly(workbook(content))),
    store=discharge.store, ddl=discharge.DDL, check=check_adds_up)
