"""NAT measurement pieces that need no lab: the mapping type from what each destination saw,
the registrar witness against a real UDP peer on loopback that answers as scripted (OPTIONS
first, an unauthenticated REGISTER when OPTIONS says nothing usable), the binding lifetime
bracket and its advice."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from pathlib import Path

import pytest

from harness.results import load_results
from sip_checks.probes.nat import Registrar, registrar_view
from sip_checks.probes.nat_binding import BindingTrial, advice, bracket, idles_up_to
from sip_checks.probes.nat_mapping import (
    ADDRESS_AND_PORT_DEPENDENT,
    ADDRESS_DEPENDENT,
    DEPENDENT,
    ENDPOINT_INDEPENDENT,
    Vantage,
    Witness,
    classify,
)
from sip_checks.toolkit.endpoint import SipEndpoint
from sip_checks.toolkit.message import SipMessage, parse

DATA = Path(__file__).resolve().parents[1] / "data"
OUT, REG, SRV = "203.0.113.66", "198.51.100.10", "198.51.100.20"


def _w(vantage: Vantage, ip: str, port: int, seen: int | None) -> Witness:
    return Witness(vantage, (ip, port), seen)


# -- mapping type ----------------------------------------------------------------------------
CASES: dict[str, tuple[list[Witness], str | None, bool | None]] = {
    "all the same: endpoint-independent, port kept": (
        [_w("outsider", OUT, 5088, 40000), _w("outsider", OUT, 5060, 40000),
         _w("registrar", REG, 5060, 40000)], ENDPOINT_INDEPENDENT, True),
    "all the same but not our port: endpoint-independent, port not kept": (
        [_w("outsider", OUT, 5088, 1024), _w("outsider", OUT, 5060, 1024),
         _w("registrar", REG, 5060, 1024)], ENDPOINT_INDEPENDENT, False),
    "outsider's two ports agree, registrar differs: address-dependent": (
        [_w("outsider", OUT, 5088, 40000), _w("outsider", OUT, 5060, 40000),
         _w("registrar", REG, 5060, 61000)], ADDRESS_DEPENDENT, False),
    "outsider's two ports differ: symmetric": (
        [_w("outsider", OUT, 5088, 40000), _w("outsider", OUT, 5060, 40001),
         _w("registrar", REG, 5060, 40000)], ADDRESS_AND_PORT_DEPENDENT, False),
    "symmetric even when the registrar is silent": (
        [_w("outsider", OUT, 5088, 40000), _w("outsider", OUT, 5060, 51234),
         _w("registrar", REG, 5060, None)], ADDRESS_AND_PORT_DEPENDENT, False),
    "registrar silent, outsider's ports agree: one address cannot tell": (
        [_w("outsider", OUT, 5088, 40000), _w("outsider", OUT, 5060, 40000),
         _w("registrar", REG, 5060, None)], None, True),
    "outsider on one port only, registrar differs: not EI, AD or APD unknown": (
        [_w("outsider", OUT, 5088, 40000), _w("outsider", OUT, 5060, None),
         _w("registrar", REG, 5060, 61000)], DEPENDENT, False),
    "outsider on one port only, registrar agrees: endpoint-independent": (
        [_w("outsider", OUT, 5088, 40000), _w("outsider", OUT, 5060, None),
         _w("registrar", REG, 5060, 40000)], ENDPOINT_INDEPENDENT, True),
    "outsider silent: the registrar alone cannot tell": (
        [_w("outsider", OUT, 5088, None), _w("outsider", OUT, 5060, None),
         _w("registrar", REG, 5060, 40000)], None, True),
    "nobody saw anything": (
        [_w("outsider", OUT, 5088, None), _w("registrar", REG, 5060, None)], None, None),
    "server probe's two ports differ: symmetric, whatever the outsider says": (
        [_w("server", SRV, 5088, 40000), _w("server", SRV, 5060, 40002),
         _w("outsider", OUT, 5088, 40000), _w("registrar", REG, 5060, 40000)],
        ADDRESS_AND_PORT_DEPENDENT, False),
    "with the server probe, all the same: endpoint-independent": (
        [_w("server", SRV, 5088, 40000), _w("server", SRV, 5060, 40000),
         _w("outsider", OUT, 5088, 40000), _w("outsider", OUT, 5060, 40000),
         _w("registrar", REG, 5060, 40000)], ENDPOINT_INDEPENDENT, True),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_mapping_type(case: str) -> None:
    witnesses, kind, preserved = CASES[case]
    m = classify(40000, witnesses)
    assert (m.kind, m.preserved) == (kind, preserved)
    assert set(m.seen) | set(m.silent) == set(witnesses)
    assert {w.dest for w in m.silent} == {w.dest for w in witnesses if w.port is None}


# -- the registrar witness against a real UDP peer -------------------------------------------
Script = Callable[[SipMessage, tuple[str, int]], bytes | None]


class _Peer(asyncio.DatagramProtocol):
    """A SIP server on loopback that answers each request as ``script`` says (None: drop)."""

    def __init__(self, script: Script) -> None:
        self.script = script
        self.methods: list[str] = []
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        req = parse(data)
        self.methods.append(req.method or "?")
        answer = self.script(req, addr)
        if answer is not None and self.transport is not None:
            self.transport.sendto(answer, addr)


def _answer(req: SipMessage, status: str, via_suffix: str) -> bytes:
    """A response echoing the request's top Via with ``via_suffix`` appended (after its
    own ``;rport``, which a server that ignores RFC 3581 leaves as it came)."""
    via = req.get("Via") or ""
    head = "\r\n".join(f"{k}: {v}" for k, v in (
        ("Via", via + via_suffix), ("From", req.get("From")), ("To", f"{req.get('To')};tag=s"),
        ("Call-ID", req.get("Call-ID")), ("CSeq", req.get("CSeq")), ("Content-Length", "0")))
    return f"SIP/2.0 {status}\r\n{head}\r\n\r\n".encode()


def _fill_rport(req: SipMessage, status: str, addr: tuple[str, int]) -> bytes:
    """As Kamailio's force_rport: the bare ``;rport`` gets the source port seen."""
    raw = _answer(req, status, f";received={addr[0]}")
    return raw.replace(b";rport", f";rport={addr[1]}".encode(), 1)


def _view(script: Script) -> tuple[Witness, list[str], int]:
    async def go() -> tuple[Witness, list[str], int]:
        loop = asyncio.get_running_loop()
        transport, peer = await loop.create_datagram_endpoint(
            lambda: _Peer(script), local_addr=("127.0.0.1", 0))
        ep = await SipEndpoint.open("127.0.0.1", 0)
        try:
            reg = Registrar(transport.get_extra_info("sockname")[:2], "sip.example",
                            "sip:trunk01@sip.example")
            w = await registrar_view(ep, reg, wait_s=0.8)
            return w, peer.methods, ep.local[1]
        finally:
            ep.close()
            transport.close()
    return asyncio.run(go())


def test_registrar_answers_options_with_rport() -> None:
    w, methods, local = _view(lambda req, addr: _fill_rport(req, "200 OK", addr))
    assert (w.port, w.received, w.how) == (local, "127.0.0.1", "Via rport of its 200 OK to "
                                                                "OPTIONS")
    assert methods == ["OPTIONS"]


def test_registrar_silent_to_options_is_asked_with_register() -> None:
    w, methods, local = _view(lambda req, addr: None if req.method == "OPTIONS"
                              else _fill_rport(req, "401 Unauthorized", addr))
    assert (w.port, w.how) == (local, "Via rport of its 401 Unauthorized to REGISTER")
    assert methods[0] == "OPTIONS" and methods[-1] == "REGISTER"
    assert set(methods) == {"OPTIONS", "REGISTER"}  # OPTIONS retransmitted, then REGISTER


def test_options_answered_without_the_port_falls_back_to_register() -> None:
    w, methods, local = _view(lambda req, addr: _answer(req, "200 OK", ";received=127.0.0.1")
                              if req.method == "OPTIONS"
                              else _fill_rport(req, "407 Proxy Authentication Required", addr))
    assert w.port == local and w.how.endswith("to REGISTER")
    assert methods == ["OPTIONS", "REGISTER"]


def test_registrar_that_never_fills_rport_is_no_witness() -> None:
    w, _, _ = _view(lambda req, addr: _answer(req, "200 OK", ";received=127.0.0.1"))
    assert w.port is None
    assert w.note == ("OPTIONS: 200 OK, rport without a value (the server does not fill it in, "
                      "RFC 3581); REGISTER: 200 OK, rport without a value (the server does not "
                      "fill it in, RFC 3581)")


def test_registrar_answering_garbage_or_nothing_is_no_witness() -> None:
    w, methods, _ = _view(lambda req, addr: b"\x00\xffnot sip at all\r\n\r\n")
    assert w.port is None
    first_register = methods.index("REGISTER")
    assert set(methods[:first_register]) == {"OPTIONS"} == set(methods) - {"REGISTER"}
    assert w.note.startswith("OPTIONS: ") and "; REGISTER: " in w.note
    assert w.note.count("unusable") == 2, w.note
    silent, _, _ = _view(lambda req, addr: None)
    assert silent.port is None
    assert silent.note == "OPTIONS: no response within 0.8 s; REGISTER: no response within 0.8 s"


def test_rport_of_another_socket_is_taken_as_said() -> None:
    """The registrar is trusted for what it says it saw: a made-up rport is reported as its
    view (the other witnesses then disagree, and the mapping says so)."""
    w, _, _ = _view(lambda req, addr: _answer(req, "200 OK", "=12345;received=192.0.2.9"))
    assert (w.port, w.received) == (12345, "192.0.2.9")


# -- binding lifetime bracket and advice -----------------------------------------------------
def _t(idle: float, alive: bool | None) -> BindingTrial:
    return BindingTrial("outsider", idle, alive)


def test_bracket_ignores_trials_that_could_not_run() -> None:
    trials = [_t(5, True), _t(10, None), _t(15, False), _t(20, False)]
    assert bracket(trials) == (5, 15)
    assert bracket([_t(5, None), _t(10, None)]) == (None, None)


def test_advice_from_a_bracket() -> None:
    assert advice(5, 10) == ("UDP bindings expire between 5 and 10 s idle: send a keep-alive "
                             "(or refresh the registration) every 4 s or less")
    assert advice(60, None) == ("bindings survive at least 60 s idle: a keep-alive or "
                                "registration refresh every 48 s is safe")
    assert advice(None, 5).endswith("every 2 s or less")


def test_idle_times_stop_at_the_longest_asked() -> None:
    assert idles_up_to(15) == [5, 10, 15]
    assert idles_up_to(25) == [5, 10, 15, 20, 25]
    assert idles_up_to(3) == [3]


# -- results.json ----------------------------------------------------------------------------
def test_results_written_before_the_witnesses_still_load(tmp_path: Path) -> None:
    """A results.json from the server-probe-only check (no witnesses, trials or source of the
    bracket) reads as it was, its new fields empty."""
    doc = json.loads((DATA / "results-sample.json").read_text(encoding="utf-8"))
    doc["checks"][0]["figures"]["nat"] = {
        "local_port": 40000, "seen": [40000, 40000, None], "mapping": "endpoint-independent",
        "alive_max_s": 5, "expired_min_s": 10}
    path = tmp_path / "results.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    nat = load_results(path).checks[0].figures.nat
    assert nat is not None and nat.seen == [40000, 40000, None]
    assert (nat.witnesses, nat.trials, nat.lifetime_from) == ([], [], None)
    assert (nat.alive_max_s, nat.expired_min_s) == (5, 10)
