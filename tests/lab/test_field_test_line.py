"""The outbound call check against a test line shaped like a carrier's (the field lab's short
code 3000: SIPp's harness/lab/templates/sipp_test_line.xml behind Kamailio and rtpengine): a
reliable 183 with early media, a session timer the far end refreshes by UPDATE, a re-INVITE
that moves the media to another port, an in-dialog OPTIONS.

Before issue 21 the user agent answered the re-INVITE 405, the test line hung up and the
check said "no response … likely causes: firewall, SIP ALG, wrong server address". Now every
account's call passes on its echo, and the evidence tells each step.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from harness.lab import Lab, testline
from tests.lab.labrun import run


@pytest.mark.lab
def test_every_account_calls_the_short_code_test_line_through_its_habits(
        field_lab: Lab, tmp_path: Path) -> None:
    field_lab.set_policy(alg=False, firewall="strict")
    prof = tmp_path / "field.yaml"
    field_lab.write_profile(prof)
    data = yaml.safe_load(prof.read_text())
    data["operator"]["test_number"] = testline.NUMBER  # a short code, as many operators give
    data["operator"]["test_number_kind"] = "echo"
    prof.write_text(yaml.safe_dump(data))
    proc, doc = run(prof, tmp_path / "out", "sip.call.outbound", call_seconds=6.0)
    calls = [c for c in doc.checks if c.id.startswith("sip.call.outbound")]
    assert len(calls) >= 2, proc.stderr[-2000:]
    for call in calls:
        assert call.status == "pass", (call.id, call.reason(), call.reserves)
        events = next(i.text for i in call.evidence if i.title == "call: in-dialog events")
        # "+0.12 s  → PRACK  198.51.100.10:5060  200  …": who sent what, and the answer
        rows = [line.split(None, 6)[2:] for line in events.splitlines()]
        ours = {(r[1], r[3]) for r in rows if r[0] == "→"}
        theirs = [(r[1], r[3], r[4] if len(r) > 4 else "") for r in rows if r[0] == "←"]
        assert ("PRACK", "200") in ours, events
        assert {m for m, st, _ in theirs if st == "200"} >= {"re-INVITE", "OPTIONS", "UPDATE"}, \
            events
        assert all(st == "200" for m, st, _ in theirs if m != "ACK"), events
        assert any(m == "re-INVITE" and "media moved" in what for m, _, what in theirs), events
        assert int(call.facts["call early media"].split()[0]) > 0
        assert float(call.facts["call duration"].split()[0]) >= 5.0
