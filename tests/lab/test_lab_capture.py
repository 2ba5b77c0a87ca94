"""Acceptance: ``recette run`` on the lab keeps a capture Wireshark decodes, with each call's
SIP found by the display filter of its check's evidence, its RTP in both directions, the
operator side's capture beside it, no firewall-sweep datagram and no secret; ``--no-capture``
writes none.

Two runs on one lab: two call checks and the firewall check (its sweeps run, and must not be
in the capture), then ``sip.options`` with ``--no-capture``. Decoding is tshark's own, as an
expert's Wireshark would do it.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from harness.capture import CAPTURE_FILE, OPERATOR_FILE, display_filter
from harness.lab import Lab
from harness.lab.topology import VOICE_HOST
from harness.results import RunResults, load_results
from tests.lab.labrun import by_id, recette, run

CALLS = ("sip.call.outbound[trunk01]", "sip.call.inbound[+33199000101]")
# A row of `tshark -z rtp,streams`: source, destination, SSRC, payload, packets, lost.
STREAM = re.compile(r"^\s*[\d.]+\s+[\d.]+\s+(\S+)\s+(\d+)\s+(\S+)\s+(\d+)\s+0x[0-9A-Fa-f]+\s+"
                    r".*?\s(\d+)\s+-?\d+ \(", re.MULTILINE)


def _tshark(*args: str) -> str:
    proc = subprocess.run(["tshark", *args], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def _invites(doc: RunResults) -> dict[str, list[str]]:
    """The call checks' INVITE Call-IDs, from their evidence."""
    checks = by_id(doc)
    return {c: [d.call_id for d in checks[c].figures.sip_dialogs if d.method == "INVITE"]
            for c in CALLS}


@pytest.fixture(scope="module")
def captured(lab: Lab, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, RunResults]:
    """One run of two calls and the firewall check, with the capture on (the default)."""
    lab.set_policy(alg=False, firewall="strict")
    tmp = tmp_path_factory.mktemp("capture")
    prof = tmp / "lab.yaml"
    lab.write_profile(prof)
    out = tmp / "out"
    proc, doc = run(prof, out, *CALLS, "firewall.openings", call_seconds=2.0)
    assert {c.id: c.status for c in doc.checks} == dict.fromkeys(
        [*CALLS, "firewall.openings"], "pass"), proc.stdout + proc.stderr
    assert f"capture: {(out / CAPTURE_FILE).resolve()}" in proc.stdout
    return out, doc


@pytest.mark.lab
def test_capture_files_are_kept_and_described(captured: tuple[Path, RunResults],
                                              lab: Lab) -> None:
    out, doc = captured
    assert doc.capture is not None and doc.capture.state == "captured"
    files = {f.name: f for f in doc.capture.files}
    assert set(files) == {CAPTURE_FILE, OPERATOR_FILE}
    assert files[CAPTURE_FILE].where == lab.ns("lan")
    assert files[OPERATOR_FILE].where == lab.ns("op")
    for name, f in files.items():
        assert (out / name).stat().st_size == f.size > 0
        assert f.packets and f.dropped == 0
    sheet = (out / "sheet.html").read_text()
    assert "Capture réseau (Wireshark)" in sheet and "sip.Call-ID == &quot;" in sheet


@pytest.mark.lab
def test_each_calls_sip_is_found_by_its_display_filter(
        captured: tuple[Path, RunResults]) -> None:
    """On both sides: what left the site and what arrived at the operator."""
    out, doc = captured
    invites = _invites(doc)
    assert all(len(ids) == 1 for ids in invites.values()), invites
    wanted = {i for ids in invites.values() for i in ids}
    for name in (CAPTURE_FILE, OPERATOR_FILE):
        seen = _tshark("-r", str(out / name), "-Y", display_filter(wanted),
                       "-T", "fields", "-e", "sip.Call-ID", "-e", "sip.Method").split("\n")
        assert {line.split("\t")[0] for line in seen if line} == wanted, name
        assert sum("\tINVITE" in line for line in seen) >= len(wanted), name


@pytest.mark.lab
def test_rtp_streams_are_found_from_the_sdp_both_ways(
        captured: tuple[Path, RunResults]) -> None:
    """Each call's media port as the site's SDP gives it has a stream out of it and one
    into it, as Wireshark's RTP analysis lists them (found from the SDP: no heuristics)."""
    out, doc = captured
    cap = str(out / CAPTURE_FILE)
    wanted = {i for ids in _invites(doc).values() for i in ids}
    sdp = _tshark("-r", cap, "-Y", f"sdp && ip.src == {VOICE_HOST} && ({display_filter(wanted)})",
                  "-T", "fields", "-e", "sip.Call-ID", "-e", "sdp.media.port")
    ports = {cid: int(port.split(",")[0]) for cid, port in
             (line.split("\t") for line in sdp.splitlines() if line)}
    assert set(ports) == wanted, sdp
    streams = STREAM.findall(_tshark("-r", cap, "-q", "-z", "rtp,streams"))
    agent = str(VOICE_HOST)
    for cid, port in ports.items():
        out_of = [int(s[4]) for s in streams if (s[0], int(s[1])) == (agent, port)]
        into = [int(s[4]) for s in streams if (s[2], int(s[3])) == (agent, port)]
        assert out_of and max(out_of) >= 50, (cid, port, streams)  # 2 s at 50 packets/s
        assert into and max(into) >= 50, (cid, port, streams)


@pytest.mark.lab
def test_no_sweep_datagram_and_no_secret_in_the_captures(
        captured: tuple[Path, RunResults], lab: Lab) -> None:
    out, doc = captured
    sweeps = by_id(doc)["firewall.openings"].figures.sweeps
    assert sweeps and all(s.sent > 10000 for s in sweeps)  # they ran, every port swept
    secrets = lab.profile.secrets()
    assert secrets
    for name in (CAPTURE_FILE, OPERATOR_FILE):
        data = (out / name).read_bytes()
        # neither a probe's sweep nor the site's warm-up
        assert b"recette-sweep:" not in data and b"recette-warm" not in data, name
        assert [s for s in secrets if s.encode() in data] == [], name
        assert b"Authorization: Digest" in data  # the digest is there, its password not
    # the sweeps' tens of thousands of datagrams would weigh megabytes
    assert (out / CAPTURE_FILE).stat().st_size < 2_000_000


@pytest.mark.lab
def test_no_capture_writes_none(lab: Lab, tmp_path: Path) -> None:
    prof = tmp_path / "lab.yaml"
    lab.write_profile(prof)
    out = tmp_path / "out"
    proc = recette("run", "--profile", str(prof), "--out", str(out), "--only", "sip.options",
                   "--no-capture")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    doc = load_results(out / "results.json")
    assert doc.capture is not None and doc.capture.state == "off"
    assert not list(out.glob("*.pcapng"))
    assert "capture:" not in proc.stdout
