"""The capture's pure parts: its filters, the Call-IDs a check records, the annex section, and
a run without dumpcap (one line, no crash). The capture itself is tested on a lab in
``tests/lab/test_lab_capture.py``."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from harness import capture
from harness.evidence import Evidence
from harness.probe.server import SWEEP_MAGIC
from harness.profile import load_profile
from harness.results import (
    STATUSES,
    CaptureFile,
    CaptureInfo,
    CheckResult,
    Figures,
    RunResults,
    SipDialog,
)
from reports.sheet.annex import capture as annex_capture
from reports.sheet.page import Page
from sip_checks.session import sip_dialogs
from sip_checks.toolkit import stream
from sip_checks.toolkit.endpoint import WireRecord

PROFILE = load_profile(Path(__file__).resolve().parents[1] / "data" / "profiles" / "good"
                       / "inline_secrets.yaml")
SITE = ("192.168.254.10", 5060)
SERVER = ("198.51.100.10", 5060)


# --- filters ----------------------------------------------------------------------------------


def test_payload_prefix_is_matched_word_by_word() -> None:
    assert capture.payload_starts_with(b"recette-") == (
        "udp[8:4] = 0x72656365 and udp[12:4] = 0x7474652d")
    # an odd length ends with a half word, then a byte
    assert capture.payload_starts_with(b"abcdefg") == (
        "udp[8:4] = 0x61626364 and udp[12:2] = 0x6566 and udp[14:1] = 0x67")


def test_every_sweep_datagram_starts_with_the_excluded_prefix() -> None:
    """The probes' sweep and the site's warm-up; SIP and RTP never do."""
    for payload in (SWEEP_MAGIC + b"\x01" * 8 + b"\x27\x10", b"recette-warm"):
        assert payload.startswith(capture.SWEEP_PREFIX)
    source = (Path(__file__).resolve().parents[2] / "sip_checks" / "probes"
              / "firewall.py").read_text()
    assert 'sendto(b"recette-warm"' in source  # the warm-up payload the filter relies on
    for payload in (b"INVITE sip:x SIP/2.0\r\n", b"SIP/2.0 200 OK\r\n", b"\x80\x08\x00\x01"):
        assert not payload.startswith(capture.SWEEP_PREFIX)


def test_agent_filter_keeps_sip_and_the_rtp_range_only() -> None:
    bpf = capture.agent_filter([5070, 5060, 5060])
    assert bpf == ("(udp and (port 5060 or port 5070 or portrange 10000-20000) and not "
                   "(udp[8:4] = 0x72656365 and udp[12:4] = 0x7474652d)) "
                   "or (ip proto 17 and ip[6:2] & 0x1fff != 0)")
    assert capture.profile_filter(PROFILE).startswith("(udp and (port 5060 or portrange")
    assert capture.operator_filter() == (
        "(udp and not (udp[8:4] = 0x72656365 and udp[12:4] = 0x7474652d)) "
        "or (ip proto 17 and ip[6:2] & 0x1fff != 0)")


def test_rtp_range_is_the_media_sockets_range() -> None:
    """The core may not import the SIP toolkit: the two constants are held equal here."""
    assert capture.RTP_PORTS == stream.RTP_PORTS


def test_display_filter_quotes_and_deduplicates() -> None:
    assert capture.display_filter([]) == ""
    assert capture.display_filter(["a@h", "b@h", "a@h"]) == (
        'sip.Call-ID == "a@h" || sip.Call-ID == "b@h"')
    # a Call-ID off the wire cannot end the string early
    assert capture.display_filter(['x"y\\z']) == 'sip.Call-ID == "x\\"y\\\\z"'


# --- the Call-IDs a check records -------------------------------------------------------------


def _rec(outgoing: bool, text: str) -> WireRecord:
    return WireRecord(0.0, outgoing, SITE, SERVER, text.encode())


WIRE = [
    _rec(True, "REGISTER sip:d SIP/2.0\r\nCall-ID: reg-1\r\n\r\n"),
    _rec(False, "SIP/2.0 200 OK\r\nCall-ID: reg-1\r\n\r\n"),
    _rec(False, "SIP/2.0 200 OK\r\ni: stray\r\n\r\n"),  # compact form, a response alone
    _rec(True, "INVITE sip:0899 SIP/2.0\r\nCall-ID: call-2\r\n\r\n"),
    _rec(True, "\r\n\r\n"),  # keep-alive: no Call-ID
    _rec(True, "BYE sip:0899 SIP/2.0\r\nCall-ID: call-2\r\n\r\n"),
]


def test_sip_dialogs_in_order_with_their_first_method() -> None:
    got = [(d.call_id, d.method) for d in sip_dialogs(WIRE)]
    assert got == [("reg-1", "REGISTER"), ("stray", ""), ("call-2", "INVITE")]
    assert [d.call_id for d in sip_dialogs(WIRE, call_id="call-2")] == ["call-2"]


def test_record_sip_adds_each_dialog_once() -> None:
    from sip_checks.session import record_sip

    class _Ep:
        wire = WIRE

    class _Ua:
        ep = _Ep()

    ev = Evidence()
    record_sip(ev, _Ua(), title="SIP a")  # type: ignore[arg-type]
    record_sip(ev, _Ua(), call_id="call-2", title="SIP b")  # type: ignore[arg-type]
    assert [d.call_id for d in ev.figures.sip_dialogs] == ["reg-1", "stray", "call-2"]
    assert [i.kind for i in ev.items] == ["ladder", "messages", "ladder", "messages"]


# --- the annex section ------------------------------------------------------------------------


def _page(cap: CaptureInfo | None, lang: str = "fr") -> Page:
    check = CheckResult(id="sip.call.outbound[t]", fr="Appel sortant", en="Outbound call",
                        figures=Figures(sip_dialogs=[
                            SipDialog(call_id="reg-1", method="REGISTER"),
                            SipDialog(call_id='c"2', method="INVITE")]))
    quiet = CheckResult(id="router.audit", fr="Audit", en="Audit")
    results = RunResults(generated="2026-11-25T16:50:32+00:00", customer="c", site="s",
                         operator_server="198.51.100.10", lang=lang,
                         counts={s: int(s == "pass") * 2 for s in STATUSES},
                         checks=[check, quiet], capture=cap)
    return Page(results, PROFILE, lang)


CAPTURED = CaptureInfo(state="captured", filter=capture.agent_filter({5060}), files=[
    CaptureFile(name="capture.pcapng", side="agent", where="rct0001-lan", size=1_234_567,
                packets=4000, dropped=0),
    CaptureFile(name="capture-operator.pcapng", side="operator", where="rct0001-op",
                size=1_200_000, packets=None, dropped=None)])


def test_annex_says_how_to_open_the_capture_in_french() -> None:
    html = annex_capture.render(_page(CAPTURED))
    assert "<h3>Capture réseau (Wireshark)</h3>" in html
    assert "Téléphonie → Appels VoIP" in html
    assert "capture.pcapng" in html and "capture-operator.pcapng" in html
    assert "1.2" in html and "4000" in html and "rct0001-lan" in html
    assert "portrange 10000-20000" in html  # the capture filter, escaped
    assert "tshark -r capture.pcapng -q -z sip,stat -z rtp,streams" in html
    # the check with dialogs has its ready-to-paste filter, escaped; the other has no row
    assert ("sip.Call-ID == &quot;reg-1&quot; || sip.Call-ID == &quot;c\\&quot;2&quot;"
            in html)
    assert "router.audit" not in html
    assert "Filtres d&#x27;affichage par contrôle" in html


def test_annex_in_english_and_without_operator_side() -> None:
    cap = CAPTURED.model_copy(update={"files": CAPTURED.files[:1]})
    html = annex_capture.render(_page(cap, lang="en"))
    assert "<h3>Packet capture (Wireshark)</h3>" in html
    assert "Telephony → VoIP Calls" in html
    assert "operator&#x27;s edge" not in html  # no comparison step without its file


def test_annex_off_unavailable_and_absent() -> None:
    assert "--no-capture" in annex_capture.render(_page(CaptureInfo(state="off")))
    html = annex_capture.render(_page(CaptureInfo(state="unavailable",
                                                  detail="dumpcap: no such device")))
    assert "Pas de capture" in html and "dumpcap: no such device" in html
    assert "Filtre" not in html
    assert annex_capture.render(_page(None)) == ""  # a results.json from before captures


# --- without dumpcap --------------------------------------------------------------------------


def test_no_capture_tool_is_one_line_and_no_crash(tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # neither dumpcap nor tshark on it
    run = capture.RunCapture.start(PROFILE, tmp_path)
    info = run.stop()
    assert info.state == "unavailable" and "tshark" in info.detail
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("recette: no capture:")
    assert list(tmp_path.iterdir()) == []


def test_off_starts_nothing(tmp_path: Path) -> None:
    info = capture.RunCapture.start(PROFILE, tmp_path, enabled=False).stop()
    assert info.state == "off" and info.files == []
    assert list(tmp_path.iterdir()) == []


@pytest.mark.skipif(shutil.which("dumpcap") is None, reason="dumpcap is not installed")
def test_dumpcap_that_cannot_start_says_why(tmp_path: Path) -> None:
    """A capture that cannot open its interface is an error with dumpcap's own words (the
    runner turns it into one line and a run without capture)."""
    with pytest.raises(RuntimeError) as err:
        capture.Dumpcap.start(str(shutil.which("dumpcap")), None, tmp_path / "x.pcapng",
                              ["rct-no-such0"], "udp", "agent")
    assert "rct-no-such0" in str(err.value)
    assert list(tmp_path.iterdir()) == []  # neither its log nor a partial file


@pytest.mark.skipif(shutil.which("dumpcap") is None or os.geteuid() != 0,
                    reason="compiling a filter for 'any' needs dumpcap and capture rights")
def test_filters_compile() -> None:
    """libpcap accepts both filters as written (a typo would cost a whole run's capture)."""
    for bpf in (capture.profile_filter(PROFILE), capture.operator_filter()):
        proc = subprocess.run([str(shutil.which("dumpcap")), "-i", "any", "-d", "-f", bpf],
                              capture_output=True, text=True, timeout=30)
        assert proc.returncode == 0 and "ret" in proc.stdout, proc.stderr
