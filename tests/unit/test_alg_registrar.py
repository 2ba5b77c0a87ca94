"""The registrar as a SIP ALG witness (sip_checks/alg_registrar.py) and the witnesses' table
(sip_checks/alg_witnesses.py), offline.

Golden cases under tests/data/alg_registrar/<case>/ (see its README): our REGISTER, the
registrar's 200 OK as it came back past the router, and what the comparison must report.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from harness.messages import msg
from sip_checks.alg_registrar import (
    as_probe,
    compare,
    contact_parts,
    exchange,
    is_lan,
    redacted,
    split_contacts,
)
from sip_checks.alg_witnesses import Run, element_name, filtered, table
from sip_checks.probes.alg import Change, Probe, Vantage
from sip_checks.toolkit.endpoint import WireRecord

DATA = Path(__file__).resolve().parents[1] / "data" / "alg_registrar"
CASES = sorted(p for p in DATA.iterdir() if p.is_dir())


def _load(case: Path) -> tuple[bytes, bytes, dict[str, Any]]:
    return ((case / "sent.txt").read_bytes(), (case / "reply.txt").read_bytes(),
            json.loads((case / "expected.json").read_text()))


def _as_dicts(changes: list[Change]) -> list[dict[str, str]]:
    return [{"element": c.element, "before": c.before, "after": c.after} for c in changes]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_registrar_golden_case(case: Path) -> None:
    sent, reply, exp = _load(case)
    view = compare(sent, reply, local_ip=exp["local_ip"], server_ip=exp["server_ip"],
                   public=exp["public"], token=exp["token"])
    assert view.contact_stored == exp["contact_stored"]
    assert _as_dicts(view.changes) == exp["changes"]
    assert _as_dicts(view.nat_only) == exp["nat_only"]


def test_golden_cases_are_well_formed() -> None:
    assert len(CASES) >= 10
    for case in CASES:
        sent, reply, exp = _load(case)
        assert b"\r\n" in sent and b"\n" not in sent.replace(b"\r\n", b""), case.name
        assert reply.startswith(b"SIP/2.0 200 OK\r\n"), case.name
        assert exp["about"] and f"x-recette={exp['token']}".encode() in sent, case.name


def test_without_the_token_our_binding_is_the_uri_we_sent() -> None:
    sent, reply, exp = _load(DATA / "kamailio-alg-off")
    assert compare(sent, reply, local_ip=exp["local_ip"], server_ip=exp["server_ip"]
                   ).contact_stored == exp["contact_stored"]
    other = compare(sent, reply, local_ip=exp["local_ip"], server_ip=exp["server_ip"],
                    token="000000000000")
    assert other.contact_stored is None and other.changes == []


def test_the_registrars_own_received_param_outranks_the_outsiders_view() -> None:
    """Kamailio's received= on the Contact is the registrar's view of the same packet; the
    outsider probe saw another flow (it may leave by another NAT address)."""
    sent, reply, exp = _load(DATA / "kamailio-linux-alg-on")
    view = compare(sent, reply, local_ip=exp["local_ip"], server_ip=exp["server_ip"],
                   public="203.0.113.99", token=exp["token"])
    assert view.public == "192.0.2.2" and "registrar" in view.public_from
    assert view.changes[0].before == "(absent; the registrar saw us from 192.0.2.2)"


def test_contacts_split_outside_brackets_and_quotes() -> None:
    assert split_contacts(['"A, b" <sip:a@h;x=1,2>;expires=3, <sip:b@h>', "sip:c@h;q=1"]) == [
        '"A, b" <sip:a@h;x=1,2>;expires=3', "<sip:b@h>", "sip:c@h;q=1"]
    assert contact_parts('<sip:a@h:5060;x-recette=ab>;expires=60;received="sip:1.2.3.4:5"') == (
        "sip:a@h:5060;x-recette=ab", {"expires": "60", "received": "sip:1.2.3.4:5"})
    assert contact_parts("sip:a@h:5060;expires=60") == ("sip:a@h:5060", {"expires": "60"})


def test_lan_addresses() -> None:
    assert all(is_lan(a) for a in ("10.1.2.3", "172.31.0.1", "192.168.254.10", "100.64.0.7",
                                   "169.254.1.1"))
    assert not any(is_lan(a) for a in ("192.0.2.2", "198.51.100.10", "172.32.0.1", "nonsense"))


def _wire(*items: tuple[bool, str]) -> list[WireRecord]:
    return [WireRecord(float(i), out, ("192.168.254.10", 5060), ("198.51.100.10", 5060),
                       data.encode()) for i, (out, data) in enumerate(items)]


def test_exchange_is_the_last_register_and_its_final_answer() -> None:
    sent, reply, _ = _load(DATA / "kamailio-alg-off")
    first = sent.decode().replace("z9hG4bK536d2b37f590f68a", "z9hG4bK0000000000000001")
    challenge = reply.decode().replace("200 OK", "401 Unauthorized").replace(
        "z9hG4bK536d2b37f590f68a", "z9hG4bK0000000000000001")
    trying = reply.decode().replace("200 OK", "100 Trying")
    wire = _wire((True, first), (False, challenge), (True, sent.decode()), (False, "junk"),
                 (False, trying), (False, reply.decode()))
    assert exchange(wire) == (sent, reply)
    assert exchange(wire[:5]) is None  # no final answer yet
    assert exchange([]) is None


def test_redacted_masks_the_digest_answer_only() -> None:
    sent, _, _ = _load(DATA / "kamailio-alg-off")
    text = redacted(sent)
    assert "Authorization: (redacted)" in text and "response=" not in text
    assert "Contact: <sip:trunk01@192.168.254.10:5060;x-recette=" in text


def test_the_registrar_as_one_row_of_the_alg_diff() -> None:
    sent, reply, exp = _load(DATA / "kamailio-linux-alg-on")
    view = compare(sent, reply, local_ip=exp["local_ip"], server_ip=exp["server_ip"],
                   token=exp["token"])
    p = as_probe(view, 5060)
    assert (p.vantage, p.direction, p.method, p.delivered) == (
        "registrar", "site→registrar", "REGISTER", True)
    assert [element_name(c.element) for c in p.changes] == ["Via"]
    refused = as_probe(None, 5060, msg("ALG_REGISTRAR_REFUSED", account="trunk01", status=403,
                                       reason="Forbidden"))
    assert not refused.delivered and refused.note is not None


def test_the_witness_table_says_who_saw_what() -> None:
    sent, reply, exp = _load(DATA / "kamailio-linux-alg-on")
    view = compare(sent, reply, local_ip=exp["local_ip"], server_ip=exp["server_ip"],
                   token=exp["token"])
    outsider = [Probe("site→outsider", "REGISTER", "udp", 5060, True, vantage="outsider",
                      changes=[Change("Via[0] sent-by", "SIP/2.0/UDP 192.168.254.10:40001",
                                      "SIP/2.0/UDP 192.0.2.2:40001")]),
                Probe("site→outsider", "REGISTER", "udp", 5088, True, vantage="outsider")]
    text = table([Run("outsider", outsider), Run("registrar", [as_probe(view, 5060)]),
                  Run("server", [], msg("NO_VANTAGE_POINT", name="server"))], view, 5060)
    lines = {ln.split("  ")[0]: ln for ln in text.splitlines()}
    assert lines["element"].split() == ["element", "we", "sent", "outsider", "reflector",
                                        "registrar", "reports", "server", "probe"]
    assert "SIP/2.0/UDP 192.0.2.2:40001  [REWRITTEN]" in lines["Via sent-by"]
    assert lines["Via received"].split() == ["Via", "received", "(absent)", "=", "as", "sent",
                                             "192.168.254.10", "[REWRITTEN]", "did", "not",
                                             "run"]
    assert "sip:192.0.2.2:5060" in lines["Contact received"]


def test_filtering_is_judged_per_probe_witness() -> None:
    """UDP lost and TCP delivered to the same probe is a filter; UDP lost to one probe and TCP
    delivered to another is not."""
    def p(vantage: Vantage, proto: str, delivered: bool) -> Probe:
        return Probe(f"site→{vantage}", "INVITE", proto, 5060, delivered, vantage=vantage)

    assert filtered([p("outsider", "udp", False), p("outsider", "tcp", True)]) == [
        ("INVITE", 5060)]
    assert filtered([p("server", "udp", False), p("outsider", "tcp", True),
                     p("outsider", "udp", True), p("server", "tcp", False)]) == []
    assert filtered([p("server", "udp", False), p("server", "tcp", True),
                     p("outsider", "udp", False), p("outsider", "tcp", True)]) == [
        ("INVITE", 5060)]
