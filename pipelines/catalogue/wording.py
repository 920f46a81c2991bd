"""The words for SPC readings and OPEL levels: one place for the pages, charts, exports and narrative.

SPC codes are those of ``pipelines.spc.xmr`` (Making Data Count); each reading is worded three ways
for three places: in full (the drill-down's icons and their alt text), compactly (a weekly table
cell) and as a phrase of the narrative draft. OPEL levels are those of NHS England's Operational
Pressures Escalation Levels framework (docs/domain.md section 4).
"""
from __future__ import annotations

# In full: the drill-down beside the icons, and the icons' alt text.
VARIATION_LABELS: dict[str, str] = {
    "common_cause": "Common cause variation",
    "improvement_high": "Special cause improvement (high)",
    "improvement_low": "Special cause improvement (low)",
    "concern_high": "Special cause concern (high)",
    "concern_low": "Special cause concern (low)",
    "neither": "Special cause variation with mixed signals (rules point both up and down)",
    "run_chart": "Run chart: too few points for limits",
}
ASSURANCE_LABELS: dict[str | None, str] = {
    "pass": "Consistently passing the ambition",
    "fail": "Consistently failing the ambition",
    "hit_or_miss": "Hit or miss: the ambition lies within the process limits",
    None: "No assurance: no ambition, or too few points for limits",
}

# Compact, for the weekly table's legend beside the Making Data Count icons: the cell's mark
# (pipelines.reports.presentation.SPC_MARK) and its words; common cause has no mark in a cell.
VARIATION_TEXT: dict[str, str] = {
    "common_cause": "no mark: common cause", "improvement_high": "▲ improvement (high)",
    "improvement_low": "▲ improvement (low)", "concern_high": "▼ concern (high)", "concern_low": "▼ concern (low)",
    "neither": "± mixed signals", "run_chart": ""}
ASSURANCE_TEXT: dict[str, str] = {"pass": "passing", "fail": "failing", "hit_or_miss": "hit or miss"}
# In a sentence: a cell's details and the exports.
ASSURANCE_WORDS: dict[str, str] = {"pass": "consistently passing the ambition",
                                   "fail": "consistently failing the ambition",
                                   "hit_or_miss": "hit or miss against the ambition"}

OPEL_MEANINGS: dict[int, str] = {
    1: "able to meet demand",
    2: "starting to show signs of pressure",
    3: "major pressures compromising flow",
    4: "unable to deliver comprehensive care",
}


def variation_label(variation: str, better: str | None = None) -> str:
    """Plain English for a variation code; with ``better`` it also says which way is good."""
    label = VARIATION_LABELS[variation]
    return f"{label}; {better} is better" if better and variation != "run_chart" else label


def assurance_label(assurance: str | None) -> str:
    return ASSURANCE_LABELS[assurance]


def opel_text(level: int) -> str:
    """'OPEL 3 (major pressures compromising flow)'."""
    return f"OPEL {level} ({OPEL_MEANINGS[level]})"


def opel_key() -> str:
    """'OPEL 1: able to meet demand. 2: ...': the levels' meanings in one sentence, for a caption."""
    return "OPEL " + " ".join(f"{level}: {meaning}." for level, meaning in OPEL_MEANINGS.items())
