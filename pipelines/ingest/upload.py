"""Loading files uploaded in the browser: the CLI's ingest code, fed with bytes. No Streamlit here,
so the logic is tested without a browser and the page only draws the events.

An uploaded file's name is only data: it is cleaned for display and never used as a path
(the ledger records ``upload:<name>``). The ingest runs in its own thread, so a page rerun or
a closed browser tab in the middle of a load cannot abandon a file half way: the file being loaded
finishes (or fails as a whole, see pipelines.warehouse.open_for_write) whatever the page does.

An upload has a budget: each file at most MAX_UPLOAD_MB (and at most the reader's row, cell and
unpacked-size limits, checked before parsing), at most MAX_UPLOAD_TOTAL_MB in all (files past it are
refused, so one upload's memory is bounded whatever it holds), and no file is started once the page
has stopped listening (it closed or reran) or MAX_UPLOAD_SECONDS have passed; those files are
reported as not loaded. Files are read and checked one at a time.
"""
from __future__ import annotations

import queue
import re
import threading
import time
import unicodedata
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from pipelines import access
from pipelines.ingest.cells import MAX_FILE_BYTES, too_large_message
from pipelines.ingest.ledger import FileOutcome
from pipelines.ingest.load import ingest_sources

MAX_UPLOAD_BYTES = MAX_FILE_BYTES  # the same limit as the command line's
MAX_UPLOAD_MB = MAX_UPLOAD_BYTES // 1024 // 1024  # Streamlit's "MB" in max_upload_size is MiB too
MAX_UPLOAD_TOTAL_MB = 200  # all the files of one upload
MAX_NAME_LENGTH = 100
MAX_UPLOAD_SECONDS = 300  # no further file of an upload is started after this


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
    return FileOutcome(name, "rejected", too_large_message(name, size))


def not_started(name: str, why: str) -> FileOutcome:
    return FileOutcome(name, "rejected", f"{name} was not loaded: {why}. Nothing from it was loaded; "
                                         "please upload it again.")


def load_uploads(uploads: Sequence[tuple[str, bytes]], db: Path | None = None, *, today: date | None = None,
                 actor: access.Identity | None = None, budget_seconds: float = MAX_UPLOAD_SECONDS) -> Iterator[Event]:
    """Load (browser file name, content) pairs in one write session, yielding what happens as it happens.

    Files over the size limit are refused first, without loading anything from them. The rest go
    through ``pipelines.ingest.load.ingest_sources`` (one transaction per file, write-then-swap), exactly as
    ``python -m pipelines ingest`` does. Stopping the iteration early (the page closed) lets the file
    being loaded finish and starts no other; so does running past ``budget_seconds``.
    ``actor`` is the uploading identity (AccessDenied at once when it may not upload).
    """
    actor = actor or access.single_analyst()
    access.require(actor, "upload_file")
    named = [(safe_name(name), content) for name, content in uploads]
    accepted, total = [], 0
    for name, content in named:
        if len(content) > MAX_UPLOAD_BYTES:
            yield too_large(name, len(content))
        elif (total := total + len(content)) > MAX_UPLOAD_TOTAL_MB * 1024 * 1024:
            yield not_started(name, f"the upload's files come to more than {MAX_UPLOAD_TOTAL_MB} MB in all")
        else:
            accepted.append((name, content))
    if not accepted:
        return
    events: queue.Queue[Event | BaseException | None] = queue.Queue()
    listening, deadline = threading.Event(), time.monotonic() + budget_seconds
    listening.set()

    def sources() -> Iterator[tuple[str, str, bytes]]:
        for name, content in accepted:
            if not listening.is_set():
                continue  # nobody would see the outcome: leave the file for the user to upload again
            if time.monotonic() > deadline:
                events.put(not_started(name, f"the upload ran past its time budget of {budget_seconds:.0f} seconds"))
                continue
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
    try:
        while (event := events.get()) is not None:
            if isinstance(event, BaseException):
                raise event
            yield event
    finally:  # the page stopped listening (closed, rerun) or everything is done
        listening.clear()
