"""Acceptance: active firewall verification from the server and outsider vantage points, and
the probe service's refusals."""

from __future__ import annotations

import json
import secrets
import time
from pathlib import Path

import pytest
import yaml

from harness import lab as labmod
from harness import netns
from harness.console.demo import upload_to_demo_console
from harness.errors import CheckError
from harness.lab import Lab
from harness.lab.profile import lab_password
from harness.messages import msg
from harness.probe.client import ProbeClient
from harness.probe.server import AUTH_HEADER, sign
from harness.results import CheckResult
from tests.lab.labrun import assert_sweeps_attested, run
from tests.lab.wan import uploaded


def _verify(lab: Lab, tmp: Path, *also: str) -> CheckResult:
    """firewall.openings (and ``also``: the checks the console wants beside a pass)."""
    prof = tmp / "lab.yaml"
    lab.write_profile(prof)
    _, doc = run(prof, tmp / "out", "firewall.openings", *also)
    return next(c for c in doc.checks if c.id == "firewall.openings")


def _openings(check: CheckResult) -> list[tuple[str, object, object, object]]:
    """Each reason as (code, phase code, source, ports): what the sheet says, in any
    language."""
    out: list[tuple[str, object, object, object]] = []
    for m in check.reasons:
        phase = m.params.get("phase")
        out.append((m.code, getattr(phase, "code", phase), m.params.get("source"),
                    m.params.get("ports")))
    return out


@pytest.mark.lab
def test_strict_passes_and_is_recorded(strict_lab: Lab, tmp_path: Path,
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    check = _verify(strict_lab, tmp_path, "security.exposure")
    assert check.status == "pass", check.reason()
    facts = check.facts
    for phase in ("cold", "warm"):
        assert facts[f"{phase} server"].startswith("5060, 10000-20000 [10002 ports")
        assert facts[f"{phase} outsider"].startswith("none [0 ports")
    assert facts["operator media sources"] == "198.51.100.10"  # learnt from a test call
    assert check.reserves == []
    assert facts["recorded for the international option"].startswith("by the console")
    # Uploaded to a console that knows the lab's probes: all four sweeps are signed (the
    # server probe's too), and the outsider's back the pass.
    (event,) = uploaded(tmp_path, strict_lab)
    assert event.kind == "verification_pass", event.detail["refused"]
    assert sorted((a["vantage"], a["phase"]) for a in event.detail["attested"]) == [
        ("outsider", "cold"), ("outsider", "warm"), ("server", "cold"), ("server", "warm")]
    # What `recette demo` does after its run: through a console on loopback, over HTTP.
    trunks = [t.name for t in strict_lab.profile.trunks]
    lines = upload_to_demo_console(tmp_path / "out", strict_lab.probe_keys(), trunks)
    assert "the 24 h wait starts now" in lines[1], lines
    assert all(": waiting: verified " in line and "activation allowed from" in line
               for line in lines if line.startswith("international option")), lines
    # Every sweep is signed by the probe that made it, for this site, sent to the public
    # address the registrar saw: what the console verifies with the registered public keys.
    assert set(strict_lab.probe_keys()) == {"outsider", "server"}
    public = check.figures.public_address
    assert public is not None and public.seen_by == "registrar"
    assert_sweeps_attested(strict_lab, check, tmp_path)


@pytest.mark.lab
def test_open_fails_listing_ports_open_to_the_outsider(strict_lab: Lab, tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    strict_lab.set_policy(firewall="open")
    check = _verify(strict_lab, tmp_path)
    (event,) = uploaded(tmp_path, strict_lab)
    assert event.kind == "verification_fail"  # a failure blocks the international option
    assert check.status == "fail"
    assert _openings(check) == [
        ("OPENINGS_TO_OUTSIDER", "PHASE_COLD", "203.0.113.66", "5060, 10000-20000"),
        ("OPENINGS_TO_OUTSIDER", "PHASE_WARM", "203.0.113.66", "5060, 10000-20000")]


@pytest.mark.lab
def test_closed_fails_listing_ports_closed_to_the_server(strict_lab: Lab,
                                                         tmp_path: Path) -> None:
    strict_lab.set_policy(firewall="closed")
    check = _verify(strict_lab, tmp_path)
    assert check.status == "fail"
    assert _openings(check) == [
        ("OPENINGS_CLOSED_TO_SERVER", "PHASE_COLD", "198.51.100.10", "5060, 10000-20000"),
        ("OPENINGS_CLOSED_TO_SERVER", "PHASE_WARM", "198.51.100.10", "5060, 10000-20000")]


@pytest.mark.lab
def test_half_open_range_names_the_closed_half(strict_lab: Lab, tmp_path: Path) -> None:
    strict_lab.set_policy(rtp=(10000, 15000))
    check = _verify(strict_lab, tmp_path)
    assert check.status == "fail"
    assert _openings(check) == [
        ("OPENINGS_CLOSED_TO_SERVER", "PHASE_COLD", "198.51.100.10", "15001-20000"),
        ("OPENINGS_CLOSED_TO_SERVER", "PHASE_WARM", "198.51.100.10", "15001-20000")]


def _raw_post(lab: Lab, path: str, body: bytes, auth: str | None) -> tuple[int, dict[str, str]]:
    import http.client

    with netns.inside(lab.ns("lan")):
        conn = http.client.HTTPConnection(str(labmod.PROBE), labmod.PROBE_PORT, timeout=10)
        conn.connect()
    headers = {AUTH_HEADER: auth} if auth is not None else {}
    conn.request("POST", path, body, headers)
    resp = conn.getresponse()
    doc = json.loads(resp.read() or b"{}")
    conn.close()
    return resp.status, doc


@pytest.mark.lab
def test_probe_refuses_unauthenticated_replayed_and_foreign_target(strict_lab: Lab) -> None:
    key = lab_password(strict_lab.prefix, "probe").encode()
    body = json.dumps({"ports": [[10000, 10001]], "token": "00" * 8}).encode()
    assert _raw_post(strict_lab, "/sweep", body, None)[0] == 401
    ts, nonce = f"{time.time():.3f}", secrets.token_hex(8)
    bad = sign(b"wrong key", ts, nonce, "POST", "/sweep", body)
    assert _raw_post(strict_lab, "/sweep", body, f"{ts}.{nonce}.{bad}") == (
        401, {"error": "bad signature"})
    stale_ts = f"{time.time() - 3600:.3f}"
    stale = sign(key, stale_ts, nonce, "POST", "/whoami", b"{}")
    assert _raw_post(strict_lab, "/whoami", b"{}", f"{stale_ts}.{nonce}.{stale}") == (
        401, {"error": "stale timestamp"})
    good = sign(key, ts, nonce, "POST", "/whoami", b"{}")
    status, doc = _raw_post(strict_lab, "/whoami", b"{}", f"{ts}.{nonce}.{good}")
    assert status == 200 and doc["requester"] == "192.0.2.2"  # the site's public address
    assert _raw_post(strict_lab, "/whoami", b"{}", f"{ts}.{nonce}.{good}") == (
        401, {"error": "replayed nonce"})
    client = ProbeClient(str(labmod.PROBE), labmod.PROBE_PORT, key)
    with netns.inside(strict_lab.ns("lan")), pytest.raises(CheckError) as exc:
        client.post("/sweep", {"ports": [[10000, 10001]], "token": "00" * 8,
                               "target": "203.0.113.66"})
    refused = exc.value.message
    assert refused.code == "PROBE_REFUSED"
    assert refused.params == {
        "vantage": msg("VANTAGE_PROBE"), "where": "198.51.100.20:5099", "path": "/sweep",
        "status": 403, "detail": "refused: this probe only sends to the requester "
                                 "(192.0.2.2), not to 203.0.113.66"}
    log = [json.loads(x) for x in (strict_lab.dir / "probe-op.jsonl").read_text().splitlines()]
    reasons = [e.get("reason") for e in log if e["event"] == "refused"]
    assert {"no credentials", "bad signature", "stale timestamp", "replayed nonce",
            "foreign target"} <= set(reasons)


@pytest.mark.lab
def test_a_declared_media_address_nothing_proves_is_an_error_not_a_pass(
        strict_lab: Lab, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The profile says the operator's media also comes from 198.51.100.30; the probe at the
    server sweeps only from its own address, the operator's traffic (sampled beside it) never
    comes from .30, and no router configuration is read (only this check runs): the opening
    to .30 is unproven, and that is an error naming it, with nothing recorded for the
    international option."""
    prof = tmp_path / "lab.yaml"
    strict_lab.write_profile(prof)
    data = yaml.safe_load(prof.read_text())
    data["operator"]["media_ips"] = ["198.51.100.30"]
    prof.write_text(yaml.safe_dump(data))
    _, doc = run(prof, tmp_path / "out", "firewall.openings")
    (check,) = doc.checks
    assert check.status == "error", check.reason()
    assert [(m.code, m.params) for m in check.reasons] == [
        ("FW_NO_MEDIA_FROM", {"address": "198.51.100.30"})]
    assert check.facts["198.51.100.10 UDP 5060"] == "proven"  # the server probe's sweep
    assert check.facts["198.51.100.30 UDP 10000-20000"] == "unproven"
    assert check.facts["recorded for the international option"].startswith("no")
    assert uploaded(tmp_path, strict_lab) == []
