"""The console's judgement of an uploaded firewall verification (harness.console.gatekeeper):
a pass starts the 24 h clock only when every outsider sweep it cites carries a valid, fresh,
unused attestation of a registered probe aimed at the site's public address; anything less is
named, and a failure is believed as declared."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest

from harness.attest import Signer, generate
from harness.console.gatekeeper import ProbeKey, decide
from tests.console_support import PUBLIC, firewall_results, scan_doc, sweep_doc

SITE = "73282932000074/Lyon"
NOW = dt.datetime(2026, 11, 2, 9, 30, tzinfo=dt.UTC)


@pytest.fixture(scope="module")
def probe() -> Signer:
    return Signer.from_text(generate()[0])


def _keys(*signers: Signer) -> dict[str, ProbeKey]:
    return {s.key_id: ProbeKey(s.key_id, f"probe {i}", s.public) for i, s in enumerate(signers)}


def _results(signer: Signer, status: str = "pass", *, site: str = SITE,
             at: dt.datetime = NOW - dt.timedelta(minutes=3), exposure: str = "pass",
             scan: dict[str, Any] | None = None, **kw: Any) -> dict[str, Any]:
    """A run whose firewall check has ``status`` with signed outsider sweeps, beside an
    exposure check of status ``exposure`` with signed scans (``scan``: scan_doc's options;
    exposure ``none``: no exposure check in the run)."""
    public = kw.pop("public", PUBLIC)
    phases = kw.pop("phases", ("cold", "warm"))
    sweeps = [{"phase": p, "attestation": signer.sign(sweep_doc(site, at, **kw))}
              for p in phases]
    scans = None if exposure == "none" else [
        {"phase": p, "attestation": signer.sign(scan_doc(site, at, **(scan or {})))}
        for p in ("cold", "warm")]
    return dict(json.loads(firewall_results(status, sweeps, generated=NOW, public=public,
                                            scans=scans, exposure=exposure)))


def test_a_signed_fresh_pass_starts_the_clock(probe: Signer) -> None:
    v = decide(_results(probe), site=SITE, received=NOW, keys=_keys(probe), used=set())
    assert v.kind == "verification_pass", v.refused
    assert [(a["phase"], a["target"], a["ports"]) for a in v.attested] == [
        ("cold", PUBLIC, "5060-5061, 9999-20001"), ("warm", PUBLIC, "5060-5061, 9999-20001")]
    assert v.declared[0].startswith("which swept ports received")
    assert "the site's public address as the operator's registrar saw it" in v.declared
    assert len(v.digests) == 4 and v.detail["attested"] == v.attested  # 2 sweeps, 2 scans
    assert [(e["phase"], e["target"], e["ports"], e["open"]) for e in v.exposure] == [
        ("cold", PUBLIC, 18, "none"), ("warm", PUBLIC, 18, "none")]


def _refused(results: dict[str, Any], keys: dict[str, ProbeKey], used: set[str] | None = None
             ) -> list[str]:
    v = decide(results, site=SITE, received=NOW, keys=keys, used=used or set())
    assert v.kind == "verification_unattested"
    return v.refused


def test_forged_stale_foreign_and_misaimed_attestations_start_nothing(probe: Signer) -> None:
    keys = _keys(probe)
    forged = _results(probe)
    att = forged["checks"][0]["figures"]["sweeps"][0]["attestation"]
    att["doc"] = att["doc"].replace(PUBLIC, "192.0.2.99")
    assert "bad signature" in _refused(forged, keys)[0]
    stranger = Signer.from_text(generate()[0])
    assert "unknown probe key" in _refused(_results(stranger), keys)[0]
    stale = _results(probe, at=NOW - dt.timedelta(hours=24, minutes=1))
    assert "stale" in _refused(stale, keys)[0]
    ahead = _results(probe, at=NOW + dt.timedelta(minutes=6))
    assert "after its receipt" in _refused(ahead, keys)[0]
    elsewhere = _results(probe, site="73282932000074/Brest")
    assert "made for site '73282932000074/Brest'" in _refused(elsewhere, keys)[0]
    misaimed = _results(probe, target="198.51.100.77")
    assert f"not to the site's public address {PUBLIC}" in _refused(misaimed, keys)[0]
    no_public = _results(probe, public=None)
    assert "names no public address" in _refused(no_public, keys)[0]
    partial = _results(probe, ports=[[5060, 5060], [10000, 15000]])
    assert "does not cover UDP 15001-20000" in _refused(partial, keys)[0]


def test_a_removed_sweep_or_signature_is_missed(probe: Signer) -> None:
    keys = _keys(probe)
    assert _refused(_results(probe, phases=("cold",)), keys) == [
        "no warm sweep from the outsider probe in the run"]
    unsigned = _results(probe)
    unsigned["checks"][0]["figures"]["sweeps"][1]["attestation"] = None
    assert _refused(unsigned, keys) == ["warm sweep from the outsider: unsigned (a probe "
                                        "without a signing key, or removed)"]


def test_an_attestation_backs_one_run_only(probe: Signer) -> None:
    results = _results(probe)
    first = decide(results, site=SITE, received=NOW, keys=_keys(probe), used=set())
    assert first.kind == "verification_pass"
    assert _refused(results, _keys(probe), used=set(first.digests)) == [
        "cold sweep from the outsider: already used by another run",
        "warm sweep from the outsider: already used by another run",
        "cold exposure scan: already used by another run",
        "warm exposure scan: already used by another run"]


def test_a_failure_is_believed_and_an_error_records_nothing(probe: Signer) -> None:
    keys = _keys(probe)
    failed = _results(probe, "fail", phases=())
    v = decide(failed, site=SITE, received=NOW, keys=keys, used=set())
    assert v.kind == "verification_fail" and v.refused == []
    v = decide(_results(probe, "error"), site=SITE, received=NOW, keys=keys, used=set())
    assert v.kind is None and "nothing recorded" in v.note
    v = decide({"checks": []}, site=SITE, received=NOW, keys=keys, used=set())
    assert v.kind is None and v.note == "no firewall verification in this run"


@pytest.mark.parametrize("junk", [None, 1, "x", [], {"doc": 1}, {"doc": "{}", "sig": "",
                                                                  "key": ""}])
def test_junk_attestations_are_refused_not_raised(probe: Signer, junk: object) -> None:
    results = _results(probe)
    for s in results["checks"][0]["figures"]["sweeps"]:
        s["attestation"] = junk
    assert len(_refused(results, _keys(probe))) == 2


def test_a_failing_exposure_blocks_whatever_the_firewall_says(probe: Signer) -> None:
    """An internet host reaching the IPBX is toll fraud's way in: a failure, believed as
    declared, even beside a signed firewall pass, and even with no firewall check at all."""
    v = decide(_results(probe, exposure="fail"), site=SITE, received=NOW,
               keys=_keys(probe), used=set())
    assert (v.kind, v.status) == ("verification_fail", "fail"), v.note
    assert "security.exposure" in v.note and v.detail["exposure"] == ["SIP 5060/tcp answers"]
    alone = _results(probe, exposure="fail")
    alone["checks"] = [c for c in alone["checks"] if c["id"] == "security.exposure"]
    assert decide(alone, site=SITE, received=NOW, keys=_keys(probe),
                  used=set()).kind == "verification_fail"


def test_a_failing_sip_from_outside_blocks_like_a_failing_exposure(probe: Signer) -> None:
    """The site answered the attacker's SIP moves (an unauthenticated international call
    taken): a failure, even beside a signed firewall pass and an attested exposure pass; an
    error of the moves changes nothing the firewall and exposure checks decide."""
    reason = {"code": "SIPOUT_INVITE_ACCEPTED", "params": {},
              "text": "An unauthenticated call to +28900000000 was accepted on 5060/UDP"}
    results = _results(probe)
    results["checks"].append({"id": "security.sip_from_outside", "status": "fail",
                              "reasons": [reason], "figures": {}})
    v = decide(results, site=SITE, received=NOW, keys=_keys(probe), used=set())
    assert (v.kind, v.status) == ("verification_fail", "fail"), v.note
    assert "security.sip_from_outside failed" in v.note
    assert v.detail["exposure"] == [reason["text"]]
    results["checks"][-1]["status"] = "error"
    assert decide(results, site=SITE, received=NOW, keys=_keys(probe),
                  used=set()).kind == "verification_pass"


@pytest.mark.parametrize(("exposure", "scan", "why"), [
    ("none", None, ["no security.exposure check in the run: what an attacker on the internet "
                    "reaches is unproven"]),
    ("error", None, ["security.exposure: error: what an attacker on the internet reaches is "
                     "unproven"]),
    ("pass", {"found_open": ["5060/tcp sip"]},
     ["cold exposure scan: the probe found open: 5060/tcp sip",
      "warm exposure scan: the probe found open: 5060/tcp sip"]),
    ("pass", {"ports": ["5060/udp"]},
     ["cold exposure scan: does not cover 22/tcp, 23/tcp, 443/tcp, 5060/tcp, 5061/tcp, "
      "69/udp, 80/tcp", "warm exposure scan: does not cover 22/tcp, 23/tcp, 443/tcp, "
      "5060/tcp, 5061/tcp, 69/udp, 80/tcp"]),
    ("pass", {"target": "198.51.100.99"},
     ["cold exposure scan: sent to 198.51.100.99, not to the site's public address "
      "192.0.2.10", "warm exposure scan: sent to 198.51.100.99, not to the site's public "
      "address 192.0.2.10"]),
], ids=["no-exposure-check", "exposure-error", "scan-found-open", "scan-too-narrow",
        "scan-misaimed"])
def test_a_firewall_pass_without_an_attested_exposure_pass_starts_nothing(
        probe: Signer, exposure: str, scan: dict[str, Any] | None, why: list[str]) -> None:
    assert _refused(_results(probe, exposure=exposure, scan=scan), _keys(probe)) == why


def test_an_unsigned_exposure_scan_backs_nothing(probe: Signer) -> None:
    results = _results(probe)
    (exp,) = [c for c in results["checks"] if c["id"] == "security.exposure"]
    exp["figures"]["exposure"] = exp["figures"]["exposure"][:1]  # the warm scan removed
    exp["figures"]["exposure"][0]["attestation"] = None
    assert _refused(results, _keys(probe)) == [
        "cold exposure scan: unsigned (a probe without a signing key, or removed)",
        "no warm exposure scan from the outsider probe in the run"]
