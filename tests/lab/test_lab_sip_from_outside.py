"""Acceptance: ``security.sip_from_outside`` on the reference lab, through the lab's real
outsider probe (in ``out``, signing with the lab's key), against the site's IPBX
(``harness/lab/ipbx.py``). The strict site gives the outsider's moves nothing and the check
passes with the probe's attestation of the site's public address; the weak site, forwarded
to the internet, fails naming the PBX that answered OPTIONS, the extensions 100-109 told from
made-up users, and the unauthenticated international INVITE it answered; the capture on the
voice LAN shows the probe ended that call (ACK, BYE answered 200) and sent no media. Nothing
leaves the lab: every address is the lab's, and the number is in a spare country code.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest

from harness.attest import key_id, verify
from harness.gate.record import site_key
from harness.lab import PBX_HOST, Lab
from harness.lab.capture import Wire
from harness.lab.profile import lab_signing_key
from harness.lab.topology import RTR_WAN
from sip_checks import sip_from_outside as judge
from tests.lab.labrun import by_id, run, sipvicious

CHECK = "security.sip_from_outside"
EXTENSIONS = [str(n) for n in range(100, 110)]


def _lab(ipbx: str) -> Iterator[Lab]:
    built = Lab.up(prefix=f"rct{secrets.token_hex(2)}", ipbx=ipbx)  # type: ignore[arg-type]
    try:
        yield built
    finally:
        built.down()


@pytest.fixture(scope="module")
def strict_site() -> Iterator[Lab]:
    yield from _lab("strict")


@pytest.fixture(scope="module")
def weak_site() -> Iterator[Lab]:
    yield from _lab("weak")


@pytest.mark.lab
def test_the_strict_site_gives_the_attacker_nothing(strict_site: Lab, tmp_path: Path) -> None:
    prof = tmp_path / "lab.yaml"
    strict_site.write_profile(prof)
    proc, doc = run(prof, tmp_path / "out", CHECK)
    (check,) = doc.checks
    assert check.status == "pass", proc.stdout + proc.stderr + repr(check.reasons)
    moves = check.figures.sip_moves
    assert moves is not None and moves.to == str(RTR_WAN)
    assert set(EXTENSIONS) <= set(moves.users) and len(moves.made_up) == len(moves.users)
    assert {(m.port, m.transport) for m in moves.moves} == set(judge.ports())
    assert all(m.complete and m.got in ("silent", "closed", "filtered") for m in moves.moves)
    assert moves.findings == [] and moves.enumerated == []
    assert moves.attestation is not None
    public = strict_site.probe_keys()["outsider"]
    signed = verify(moves.attestation.model_dump(), {key_id(public): public})
    assert signed["kind"] == "sip-moves" and signed["target"] == str(RTR_WAN)
    assert signed["number"] == judge.NUMBER and signed["site"] == site_key(strict_site.profile)
    assert check.facts["SIP from outside"] == "every move met silence"
    written = b"".join(f.read_bytes() for f in (tmp_path / "out").rglob("*") if f.is_file())
    assert lab_signing_key(strict_site.prefix, "outsider").encode() not in written


@pytest.mark.lab
def test_the_weak_site_fails_and_the_probe_ends_the_call(weak_site: Lab,
                                                        tmp_path: Path) -> None:
    prof = tmp_path / "lab.yaml"
    weak_site.write_profile(prof)
    with Wire(weak_site.ns("lan"), "eth0", tmp_path / "lan.pcap", "udp") as wire:
        proc, doc = run(prof, tmp_path / "out", CHECK)
    (check,) = doc.checks
    assert check.status == "fail", proc.stdout + proc.stderr + repr(check.reasons)
    moves = check.figures.sip_moves
    assert moves is not None and moves.attestation is not None
    codes = [m.code for m in check.reasons]
    # The router forwards UDP and TCP 5060 to the weak IPBX: each fails three ways.
    for where in ("5060/UDP", "5060/TCP"):
        for code in ("SIPOUT_OPTIONS", "SIPOUT_INVITE_ACCEPTED", "SIPOUT_ENUMERATION"):
            assert any(m.code == code and m.params["where"] == where for m in check.reasons), \
                (where, code, codes)
    assert moves.enumerated == EXTENSIONS  # the profile's accounts answered as made-up did
    options = next(m for m in moves.moves if m.move == "options" and m.transport == "udp")
    assert options.got.startswith("200 OK") and "FPBX" in options.got
    for invite in [m for m in moves.moves if m.move == "invite" and m.port == 5060]:
        assert invite.got.startswith("100 Trying, 183 Session Progress, 200 OK"), invite
        assert invite.ended == "ack+bye"
    # Nothing answers on 5080/5160: the router forwards them nowhere.
    assert {m.got for m in moves.moves if m.port != 5060} <= {"silent", "closed", "filtered"}
    # The IPBX's side of the wire: each answered INVITE was ACKed and BYEd, the BYE answered
    # 200; the probe sent no RTP to the IPBX (its SDP offered the discard port).
    to_pbx = [d for d in wire.datagrams() if d.dst[0] == str(PBX_HOST)]
    from_pbx = [d for d in wire.datagrams() if d.src[0] == str(PBX_HOST)]
    heads = [d.payload.split(b"\r\n", 1)[0] for d in to_pbx]
    invites = [h for h in heads if h.startswith(b"INVITE sip:" + judge.NUMBER.encode())]
    assert len(invites) == 1  # the UDP one (TCP is not in this capture's filter)
    assert any(h.startswith(b"ACK ") for h in heads) and any(h.startswith(b"BYE ")
                                                              for h in heads)
    assert any(d.payload.startswith(b"SIP/2.0 200") and b" BYE\r\n" in d.payload
               for d in from_pbx)
    assert not [d for d in to_pbx if d.rtp]
    assert not [d for d in to_pbx if d.dst[1] != 5060]


@pytest.mark.lab
def test_recette_finds_at_least_what_sipvicious_finds(weak_site: Lab, tmp_path: Path) -> None:
    """SIPVicious is the independent peer (issue 25): the SIP servers svmap finds from the
    internet host and the extensions svwar enumerates there, recette's two checks report
    too, from the same host (the outsider probe runs in ``out``). Speed is the bench's
    (bench/exposure_vs_sipvicious.py), not a test's."""
    svmap = sipvicious(weak_site, "svmap", "-p5060,5080,5160", home=tmp_path)
    servers = {int(p) for p in re.findall(rf"\|\s*{re.escape(str(RTR_WAN))}:(\d+)\s*\|", svmap)}
    svwar = sipvicious(weak_site, "svwar", "-e100-120", home=tmp_path)
    users = set(re.findall(r"^\|\s*(\d+)\s*\|\s*\w+\s*\|", svwar, re.M))
    assert servers == {5060} and users == set(EXTENSIONS), (svmap, svwar)  # something found
    prof = tmp_path / "lab.yaml"
    weak_site.write_profile(prof)
    proc, doc = run(prof, tmp_path / "out", "security.exposure", CHECK)
    checks = by_id(doc)
    assert {c.status for c in checks.values()} == {"fail"}, proc.stdout + proc.stderr
    reached = {p.port for s in checks["security.exposure"].figures.exposure for p in s.ports
               if p.risk is not None and p.transport == "udp"}
    assert servers <= reached
    moves = checks[CHECK].figures.sip_moves
    assert moves is not None and users <= set(moves.enumerated)
