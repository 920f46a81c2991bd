"""Loading files uploaded in the browser: the CLI's ingest code, fed with bytes. No Streamlit here,
so the logic is tested without a browser and the page only draws the events.

An uploaded file's name is only data: it is cleaned for display and never used as a path
(the ledger records ``upload:<name>``). The ingest runs in its own thread, so a page rerun or
a closed browser tab in the middle of a load cannot abandon it half way: the load finishes
(or fails as a whole, see pipelines.warehouse.open_for_write) whatever the page does.
"""
from __future__ import annotations

import queue
import re
import threading
import unicodedata
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from pipelines import access
from pipelines.ingest.load import FileOutcome, ingest_sources

MAX_UPLOAD_MB = 50
MAX_UPLOAD_BYTES = MAX_UPLOAD_MB * 1024 * 1024  # Streamlit's "MB" in max_upload_size is MiB too
MAX_NAME_LENGTH = 100


@dataclass(frozen=True)
class Waiting:
    """Another load (CLI or another browser) holds the write lock; this one starts when it is done."""


@dataclass(frozen=True)
class Started:
    file_name: str


Event = Waiting | Started | FileOutcome


def safe_name(name: str) -> str:
    """The file name to show and record: no folders, no control or invisible characters, at most
    MAX_NAME_LENGTH characters (keeping the extension); 'unnamed file' when nothing is left."""
    base = re.split(r"[\\/]", name)[-1]
    # Control and invisible characters go; other spaces (tabs are controls) become plain spaces.
    base = "".join(" " if unicodedata.category(ch)[0] == "Z" else ch for ch in base
                   if unicodedata.category(ch)[0] != "C").strip()
    if base.strip(".") == "":
        return "unnamed file"
    if len(base) > MAX_NAME_LENGTH:
        stem, dot, extension = base.rpartition(".")
        extension = f".{extension}" if dot and stem and len(extension) <= 10 else ""
        base = base[:MAX_NAME_LENGTH - len(extension) - 1] + "…" + extension
    return base


def too_large(name: str, size: int) -> FileOutcome:
    return FileOutcome(name, "rejected", f"{name} is {size / 1024 / 1024:.1f} MB, over the {MAX_UPLOAD_MB} MB "
                                         "limit for one file; nothing from it was loaded. Please split it into "
                                         "smaller files (for example one per month) and upload those.")


def load_uploads(uploads: Sequence[tuple[str, bytes]], db: Path | None = None, *,
                 today: date | None = None, actor: access.Identity | None = None) -> Iterator[Event]:
    """Load (browser file name, content) pairs in one write session, yielding what happens as it happens.

    Files over the size limit are refused first, without loading anything from them. The rest go
    through ``pipelines.ingest.load.ingest_sources`` (one transaction per file, write-then-swap), exactly as
    ``python -m pipelines ingest`` does. Stopping the iteration early does not stop the load.
    ``actor`` is the uploading identity (AccessDenied at once when it may not upload).
    """
    actor = actor or access.single_analyst()
    access.require(actor, "upload_file")
    named = [(safe_name(name), content) for name, content in uploads]
    for name, content in named:
        if len(content) > MAX_UPLOAD_BYTES:
            yield too_large(name, len(content))
    accepted = [(name, content) for name, content in named if len(content) <= MAX_UPLOAD_BYTES]
    if not accepted:
        return
    events: queue.Queue[Event | BaseException | None] = queue.Queue()

    def sources() -> Iterator[tuple[str, str, bytes]]:
        for name, content in accepted:
            events.put(Started(name))
            yield name, f"upload:{name}", content

    def work() -> None:
        try:
            for outcome in ingest_sources(sources(), db, today=today, actor=actor,
                                          on_wait=lambda: events.put(Waiting())):
                events.put(outcome)
        except BaseException as error:  # handed to the page, which says the load failed as a whole
            events.put(error)
        finally:
            events.put(None)

    # Not a daemon: a server shutting down waits for the load to finish rather than cutting it off.
    threading.Thread(target=work, name="upload-ingest").start()
    while (event := events.get()) is not None:
        if isinstance(event, BaseException):
            raise event
        yield event
