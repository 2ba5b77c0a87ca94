"""The field lab's test line: a short code (3000) answered with an SBC's habits.

Operators' test lines are often short codes behind the same SBC as everything else, and the
SBC brings what the harness's user agent must survive on a real trunk: a reliable 183 with
early media (RFC 3262, PRACK), a session timer refreshed by the far end (RFC 4028, UPDATE), a
re-INVITE that moves the media to another port, in-dialog OPTIONS. The scenario is
``templates/sipp_test_line.xml`` (an independent SIPp UAS, tested on its own in
tests/system/test_ua_dialog.py); run with ``-rtp_echo`` it echoes the caller's RTP on its
media port and, after the move, on the next even port, so the call's echo proves the caller
followed the move. Kamailio routes :data:`NUMBER` here through the relay like any call.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

NUMBER = "3000"
PORT = 5083  # SIP, beside the echo far end (5080) and the announcement (5081)
MEDIA_PORT = 6200  # and 6202 after the move


def scenario() -> str:
    """The test line's SIPp scenario text."""
    return resources.files("harness.lab").joinpath("templates/sipp_test_line.xml").read_text()


def command(scenario_path: Path, ip: str) -> list[str]:
    """SIPp command line for the test line on ``ip``:PORT, echoing on its media ports."""
    return ["sipp", "-sf", str(scenario_path), "-i", ip, "-p", str(PORT), "-mi", ip,
            "-mp", str(MEDIA_PORT), "-rtp_echo", "-nostdin", "-trace_err",
            "-error_file", str(scenario_path.with_suffix(".errors.log"))]
