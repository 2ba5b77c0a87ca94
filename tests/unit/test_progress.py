"""harness.progress: the live panel at a terminal, plain lines elsewhere."""

from __future__ import annotations

import io
import re

from harness.progress import Progress
from harness.results import CheckResult
from harness.schedule import Snapshot


def _snap() -> Snapshot:
    return Snapshot(running=[("sip.call.outbound[trunk01]", 4.2), ("nat.behaviour", 12.0)],
                    done=5, total=17, waiting=3, gauges={"RTP streams up": 7}, left_s=75,
                    elapsed_s=14)


def test_a_terminal_sees_what_runs_streams_up_and_time_left() -> None:
    out = io.StringIO()
    p = Progress({}, live=True, stream=out)
    p.view(_snap())
    p.pytest_sessionfinish()
    text = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", out.getvalue()).replace("\n", "")
    for want in ("sip.call.outbound[trunk01]", "nat.behaviour", "5/17 checks done",
                 "2 running", "3 waiting", "7 RTP streams up", "about 1 min 15 s left"):
        assert want in text, (want, text)


def test_a_log_gets_one_plain_line_per_finished_check_and_no_panel() -> None:
    out = io.StringIO()
    res = {"n1": CheckResult(id="sip.options", fr="o", en="o", status="fail", duration_s=0.4)}
    p = Progress(res, live=False, stream=out)
    p.total = 17
    p.view(_snap())  # no panel when not a terminal
    p.pytest_runtest_logfinish("n1")
    p.pytest_runtest_logfinish("unknown")  # not a check of ours: nothing
    assert out.getvalue() == "  [1/17] FAIL  sip.options (0.4 s)\n"
