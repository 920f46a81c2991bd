"""The concurrent-sessions benchmark's side of Streamlit's websocket protocol (benchmarks/sessions.py): the
messages it sends as a browser would, and how it reads the server's replies to tell a finished page, an error
and a run that goes on. Nothing is timed here: the benchmark prints its own figures."""
from __future__ import annotations

import math
import sys
from pathlib import Path

from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
import sessions  # noqa: E402  (a benchmark script, not a package)


def finished(status: int) -> bytes:
    return ForwardMsg(script_finished=status).SerializeToString()


def test_a_page_is_asked_for_by_its_url_path_and_query_string_as_the_browser_does() -> None:
    request = BackMsg.FromString(sessions.rerun_request(sessions.Page("trust drill-down", "trust", "trust=Z00")))
    assert request.WhichOneof("type") == "rerun_script"
    assert (request.rerun_script.page_name, request.rerun_script.query_string) == ("trust", "trust=Z00")
    assert BackMsg.FromString(sessions.clear_cache_request()).WhichOneof("type") == "clear_cache"


def test_a_visit_ends_at_a_successful_script_finished_not_at_an_early_finish_for_a_rerun() -> None:
    assert sessions.read_message(finished(ForwardMsg.FINISHED_SUCCESSFULLY)) == (True, None)
    assert sessions.read_message(finished(ForwardMsg.FINISHED_EARLY_FOR_RERUN)) == (False, None)  # st.rerun: more
    assert sessions.read_message(finished(ForwardMsg.FINISHED_WITH_COMPILE_ERROR)) == (True, "script compile error")
    missing = ForwardMsg()
    missing.page_not_found.page_name = "no-such-page"
    assert sessions.read_message(missing.SerializeToString()) == (False, "page not found")


def test_an_exception_in_the_page_is_an_error_and_other_elements_are_not() -> None:
    raised = ForwardMsg()
    raised.delta.new_element.exception.type = "ValueError"
    raised.delta.new_element.exception.message = "no such week"
    assert sessions.read_message(raised.SerializeToString()) == (False, "exception ValueError: no such week")
    text = ForwardMsg()
    text.delta.new_element.markdown.body = "Hello"
    assert sessions.read_message(text.SerializeToString()) == (False, None)


def test_p50_and_p95_are_nearest_rank_and_leave_out_visits_that_were_never_made() -> None:
    times = [float(n) for n in range(1, 21)] + [math.nan]  # a lost session's later visits have no time
    assert (sessions.percentile(times, 0.5), sessions.percentile(times, 0.95)) == (10.0, 19.0)
    assert sessions.percentile([3.0], 0.95) == 3.0
    assert math.isnan(sessions.percentile([math.nan], 0.5))
