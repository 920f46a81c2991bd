"""Scale out without a new engine (issue 15): two dashboard processes on two ports against one
database file, viewed in headless Chromium while ``python -m pipelines ingest`` swaps the file
under them. Neither errors during the swap, and both show the new figures on their next view."""
from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from browser_fixtures import (
    ROOT,
    free_port,
    new_context,
    open_page,
    read_weekly_table,
    screenshot,
    start_dashboard,
    wait_until_up,
)
from helpers import load_rows_directly, stop_process, week_of_rows, write_csv
from playwright.sync_api import Browser, Page, expect

STRANDED = "Stranded 7+ days"  # the weekly table's short label (catalogue)


@pytest.fixture(scope="module")
def two_servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, list[str]]]:
    """Harrogate stranded 50.0% then 40.0% (weeks ending 7 and 14 April 2024); two dashboards serve it."""
    work = tmp_path_factory.mktemp("scale")
    db = work / "flow.duckdb"
    load_rows_directly(db, week_of_rows("RCD", date(2024, 4, 1), ga_beds_occupied=90, los_7plus=45)
                       + week_of_rows("RCD", date(2024, 4, 8), ga_beds_occupied=90, los_7plus=36))
    servers, urls, logs = [], [], [work / f"streamlit{number}.log" for number in (1, 2)]
    try:
        for log in logs:
            port = free_port()
            servers.append(start_dashboard(port, log, {"FLOW_DB": str(db)}))
            urls.append(f"http://127.0.0.1:{port}")
        for url, server, log in zip(urls, servers, logs, strict=True):  # both start at once; wait for each
            wait_until_up(f"{url}/_stcore/health", server, log)
        yield db, urls
    finally:
        for server in servers:
            stop_process(server)


@pytest.fixture
def pages(browser: Browser) -> Iterator[list[Page]]:
    contexts = [new_context(browser, viewport={"width": 1366, "height": 768}) for _ in range(2)]
    try:
        yield [context.new_page() for context in contexts]
    finally:
        for context in contexts:
            context.close()


def harrogate_stranded(page: Page) -> str:
    header, *rows = read_weekly_table(page)
    return {row[0]: dict(zip(header, row, strict=True)) for row in rows}[STRANDED]["Harrogate"]


def test_two_dashboards_serve_the_new_figures_after_an_ingest_swaps_the_file(
        two_servers: tuple[Path, list[str]], pages: list[Page], tmp_path: Path) -> None:
    db, urls = two_servers
    for page, url in zip(pages, urls, strict=True):
        open_page(page, url)
        expect(page.get_by_role("combobox", name="Week ending (Sunday)")).to_have_value("Sun 14/04/2024")
        assert harrogate_stranded(page).startswith("40%")
    # A third week: 27 of 90 occupied beds stranded, 30.0%.
    new_week = write_csv(tmp_path / "harrogate_week3.csv",
                         week_of_rows("RCD", date(2024, 4, 15), ga_beds_occupied=90, los_7plus=27))
    inode_before = db.stat().st_ino
    ingest = subprocess.Popen([sys.executable, "-m", "pipelines", "ingest", str(new_week), "--db", str(db)],
                              cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    views = 0
    while ingest.poll() is None or views < len(urls):  # both dashboards keep serving while the file is swapped
        for page, url in zip(pages, urls, strict=True):
            open_page(page, url)  # fails on any exception shown on the page
            views += 1
    assert ingest.wait() == 0, ingest.stdout.read().decode() if ingest.stdout else ""
    assert db.stat().st_ino != inode_before  # the file really was swapped, not written in place
    for number, (page, url) in enumerate(zip(pages, urls, strict=True), start=1):
        open_page(page, url)  # the next view
        expect(page.get_by_role("combobox", name="Week ending (Sunday)")).to_have_value("Sun 21/04/2024")
        assert harrogate_stranded(page).startswith("30%"), number
        screenshot(page, f"scale_out_server{number}")
