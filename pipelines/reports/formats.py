"""The download formats of the weekly narrative table, apart from the writers (``export``), so the command
line names them without importing the Word and Excel libraries on every ingest."""
from __future__ import annotations

# format -> (MIME type, what the page's button says)
FORMATS: dict[str, tuple[str, str]] = {
    "xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "Excel (.xlsx)"),
    "docx": ("application/vnd.openxmlformats-officedocument.wordprocessingml.document", "Word (.docx)"),
    "csv": ("text/csv", "CSV"),
}
