"""Published labels -> our names, for NHS England's Acute Daily Discharge SitRep (docs/domain.md section 2.2).

What the column labels of Tables 2 and 3, the destinations of Table 4 and the delay reasons of
Table 5 mean, in every layout NHS England has used. Shared by the workbook and long-CSV readers;
``pipelines.publication.tables`` re-exports these names.
"""
from __future__ import annotations

import re
from datetime import date

DAILY_MEASURES = ("nctr_patients", "nctr_discharged", "nctr_remaining",
                  "nctr_discharged_by_5pm", "nctr_discharged_after_5pm")
BED_DAY_MEASURES = ("additional_bed_days_los_7plus", "additional_bed_days_los_14plus", "additional_bed_days_los_21plus")


def norm(text: object) -> str:
    """Lower case, single spaces, plain dashes: 'P2 - Care Home \\n(short' -> 'p2 - care home (short'."""
    return re.sub(r"\s+", " ", str(text or "").replace("\u2013", "-").replace("\u202f", " ")).strip().lower()


def tidy_label(text: str) -> str:
    """A published label with its line breaks and double spaces removed (what we store)."""
    return re.sub(r"\s+", " ", text.replace("\u2013", "-").replace("\u202f", " ")).strip()


def table2_measure(label: object) -> str | None:
    """Table 2 column label -> measure. Both layouts: 3 measures a day, or the older 4 with the 17:00 split."""
    text = norm(label)
    if "remaining" in text or "not discharged" in text:
        return "nctr_remaining"
    if "discharged" in text:
        if re.search(r"17[:.]01|23[:.]59|after 5 ?pm|after 17", text):
            return "nctr_discharged_after_5pm"
        if re.search(r"17[:.]00|by 5 ?pm|before 5 ?pm", text):
            return "nctr_discharged_by_5pm"
        return "nctr_discharged"
    if "no longer meet" in text and "criteria to reside" in text:
        return "nctr_patients"
    return None


def bed_days_measure(label: object) -> str | None:
    """'Number of additional bed days, patients with length of stay of 14+ days' -> additional_bed_days_los_14plus."""
    found = re.search(r"additional bed days.*?(\d+)\s*\+\s*days", norm(label))
    return f"additional_bed_days_los_{found.group(1)}plus" if found else None


# Table 4 destination labels as published (2022-04, 2023-11 and the national time series)
# -> (destination code, pathway). docs/domain.md section 5: P0 home with no new support, P1 home with support,
# P2 short-term bedded rehabilitation/recovery, P3 new care home placement.
DESTINATIONS: dict[str, tuple[str, int]] = {
    "P0 - Domestic home without reablement support": ("P0", 0),
    "P0 - Other without reablement support": ("P0", 0),
    "P1 - Domestic home with reablement support": ("P1", 1),
    "P1 - Other with reablement support": ("P1", 1),
    "P1 - Hotel with reablement support": ("P1", 1),
    "P2 - Care Home (short term 24hr support)": ("P2", 2),
    "P2 - Designated Setting (isolation before moving to care home)": ("P2", 2),
    # Hospice is published only for England and regions: trust and ICB cells are '-' (disclosure control).
    "P2 - Hospice (short term 24hr support)": ("P2", 2),
    "P2 - Community Rehab Setting (short term 24hr support)": ("P2", 2),
    "P3 - Care Home (new admission, likely permanent)": ("P3", 3),
    # P3b: an existing care home resident going back to their care home. Not a new placement, but
    # NHS England publishes it under P3, so it rolls up to pathway 3; destination_code keeps it apart.
    "P3b - Care Home (existing resident discharged back)": ("P3b", 3),
    "P3 - Designated Setting (isolation before moving to care home as new admission)": ("P3", 3),
}
_DESTINATION_KEYS = {norm(label): mapped for label, mapped in DESTINATIONS.items()}


def destination(label: object) -> tuple[str | None, int | None, bool]:
    """(code, pathway, known) of a Table 4 label; an unknown label is mapped by its 'Pn' prefix, if any."""
    text = norm(label)
    if text in _DESTINATION_KEYS:
        return (*_DESTINATION_KEYS[text], True)
    prefix = re.match(r"^p([0-3])(b?)\b", text)
    if prefix:
        return f"P{prefix.group(1)}{prefix.group(2)}", int(prefix.group(1)), False
    return None, None, False


# Table 5: the 18 delay reasons as published (the reason column stores the tidied label itself).
DELAY_REASONS = (
    "Awaiting a medical decision/intervention including writing the discharge summary",
    "Awaiting community equipment and adaptations to housing",
    "Awaiting confirmation from community hub/single point of access that referral received and actioned",
    "Awaiting Diagnostic test",
    "Awaiting medicines to take home",
    "Awaiting referral to community single point of access",
    "Awaiting therapy decision to discharge",
    "Awaiting transport",
    "Declared as not meeting the criteria to reside at morning board round and then later in day meets the "
    "criteria to reside so discharge stopped",
    "Homeless/no right of recourse to public funds/no place to discharge to",
    "Individual/family not in agreement with discharge plans",
    "No Plan",
    "Pathway 1: awaiting availability of resource for assessment and start of care at home",
    "Pathway 2: awaiting availability of rehabilitation bed in community hospital or other bedded setting",
    "Pathway 3: awaiting availability of a bed in a residential or nursing home that is likely to be a permanent "
    "placement",
    "Remains in hospital to avoid spread of (non-Covid 19) infectious disease and because there is no other "
    "suitable location to discharge to",
    "Repatriation/Transfer to another acute trust for specialist treatment or ongoing treatment",
    "Safeguarding concern preventing discharge or Court of protection",
)
REASON_KEYS = {norm(r) for r in DELAY_REASONS}


def length_of_stay_cohort(label: object) -> str | None:
    """The length-of-stay cohort a title counts: '... with length of stay 7 days or over ...' -> '7+'."""
    found = re.search(r"length of stay (?:of )?(\d+)\s*(?:\+|days? or (?:over|more))", norm(label))
    return f"{found.group(1)}+" if found else None
# Delay reasons were redefined from this Monday (acute discharge sitrep technical specification, April 2024):
# a reason's figures before and after it are different measures, even under the same label.
REASONS_REDEFINED = date(2024, 5, 27)
