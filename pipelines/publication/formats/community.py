"""NHS England's Community Discharge SitRep (community providers): recognised only so that it is
rejected with a clear message rather than read as a trust's own sitrep."""
from __future__ import annotations

from typing import NoReturn

from pipelines.catalogue.issues import FileRejected
from pipelines.publication.formats import discharge
from pipelines.publication.formats.base import Format
from pipelines.publication.tables import COMMUNITY


def _refuse(content: bytes) -> NoReturn:
    raise FileRejected("this is NHS England's Community Discharge SitRep (community providers); "
                       "only the Acute Daily Discharge SitRep is supported.")


FORMAT = Format(kind=COMMUNITY, described="the Community Discharge SitRep (not supported)",
                detect=lambda probe: discharge.acute_workbook_kind(probe) == COMMUNITY, read=_refuse, store=None)
