"""The NAT mapping of the site router, measured from what a real site has: one socket on the
voice LAN sends to both SIP ports of the outsider probe (which report the source port they
saw), to the operator's registrar (whose response says it in the top Via ``rport``) and, when
the profile names one, to the probe at the operator (it adds its view; never required).

The classification itself is :mod:`sip_checks.probes.nat_mapping`; the binding lifetime
trials are :mod:`sip_checks.probes.nat_binding`.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from harness.errors import CheckError
from harness.probe.client import ProbeClient
from harness.profile import Profile
from sip_checks.probes.nat_mapping import Mapping, ProbeVantage, Witness, classify
from sip_checks.toolkit.endpoint import SipEndpoint, WireRecord
from sip_checks.toolkit.message import build_request, new_branch, new_call_id
from sip_checks.toolkit.via import via_seen

PROBE_PORTS = (5088, 5060)  # the probe's SIP listeners: two ports of one address
REFLECT_WAIT_S = 3.0  # how long a probe may take to report a ping (one resend after 1 s)
RESEND_AFTER_S = 1.0
REGISTRAR_WAIT_S = 4.0  # per request (OPTIONS, then REGISTER): retransmitted at 0.5, 1, 2 s


@dataclass(frozen=True)
class Registrar:
    """The operator's SIP server as the mapping test addresses it: ``aor`` is the identity
    an unauthenticated REGISTER names (the profile's first account)."""

    addr: tuple[str, int]
    domain: str
    aor: str


def registrar_of(profile: Profile) -> Registrar:
    srv = profile.operator.sip_server
    accounts = profile.accounts()
    user = accounts[0].user if accounts else "recette"
    return Registrar((str(srv.ip), srv.port), srv.domain, f"sip:{user}@{srv.domain}")


def _request(ep: SipEndpoint, method: str, uri: str, from_uri: str, to_uri: str, *,
             branch: str, call_id: str) -> bytes:
    """An out-of-dialog request from the test socket; ``build_request`` asks for ``;rport``
    in our Via, so an RFC 3581 server reports the public port it saw."""
    host, port = ep.local
    return build_request(method, uri, via_host=host, via_port=port, from_uri=from_uri,
                         to_uri=to_uri, call_id=call_id, cseq=1, branch=branch,
                         extra=[("Accept", "application/sdp")] if method == "OPTIONS" else [])


async def _reflected(ep: SipEndpoint, vantage: ProbeVantage, probe: ProbeClient,
                     dest: tuple[str, int], call_id: str, refused: CheckError | None
                     ) -> Witness:
    """Ping ``dest`` (a probe's SIP listener) with ``call_id`` (announced to the probe, or
    ``refused``) and ask the probe which port it came from; one resend, since a datagram on
    the internet may be lost."""
    raw = _request(ep, "OPTIONS", f"sip:{dest[0]}", "sip:recette-nat@invalid",
                   f"sip:{dest[0]}", branch=new_branch(), call_id=call_id)
    loop = asyncio.get_running_loop()
    if refused is not None:
        return Witness(vantage, dest, None, note=f"the probe failed: {refused}")
    ep.send(raw, dest)
    start = loop.time()
    resent = False
    while True:
        try:
            answer = await asyncio.to_thread(probe.post, "/udp-reflect", {"call_id": call_id})
        except CheckError as exc:
            return Witness(vantage, dest, None, note=f"the probe failed: {exc}")
        ports = answer.get("ports")
        if isinstance(ports, list) and ports:
            port = ports[0]
            if isinstance(port, int) and 0 < port < 65536:
                return Witness(vantage, dest, port, how="the probe's SIP listener")
            return Witness(vantage, dest, None, note=f"the probe reported {str(port)[:20]!r}")
        waited = loop.time() - start
        if waited >= REFLECT_WAIT_S:
            return Witness(vantage, dest, None,
                           note=f"nothing arrived within {REFLECT_WAIT_S:g} s (sent twice)")
        if not resent and waited >= RESEND_AFTER_S:
            ep.send(raw, dest)
            resent = True
        await asyncio.sleep(0.1)


async def registrar_view(ep: SipEndpoint, reg: Registrar, *,
                         wait_s: float = REGISTRAR_WAIT_S) -> Witness:
    """The public port the registrar saw, from the top Via of its response: OPTIONS first
    (out of dialog, no user part), then an unauthenticated REGISTER (its 401/407 carries the
    Via too) when OPTIONS got no answer or an answer without the port."""
    notes: list[str] = []
    uri = f"sip:{reg.domain}"
    for method, from_uri, to_uri in (("OPTIONS", f"sip:recette@{reg.domain}", uri),
                                     ("REGISTER", reg.aor, reg.aor)):
        branch = new_branch()
        raw = _request(ep, method, uri, from_uri, to_uri, branch=branch,
                       call_id=new_call_id(ep.local[0]))
        try:
            res = await ep.transaction(raw, reg.addr, branch=branch, timeout=wait_s)
        except CheckError as exc:
            notes.append(f"{method}: {_why(exc, wait_s)}")
            continue
        answer = f"{res.final.status} {res.final.reason}".strip()
        seen = via_seen(res.final)
        if seen.rport is not None:
            return Witness("registrar", reg.addr, seen.rport, received=seen.received,
                           how=f"Via rport of its {answer} to {method}")
        notes.append(f"{method}: {answer}, {seen.note}")
    return Witness("registrar", reg.addr, None, note="; ".join(notes))


def _why(exc: CheckError, wait_s: float) -> str:
    """A transaction's failure in a few words (the catalog's sentence adds likely causes
    meant for sip.options, not for a witness that may stay silent)."""
    if exc.message.code != "NO_RESPONSE":
        return str(exc)
    got = exc.message.params.get("got")
    extra = "".join(str(g) for g in got) if isinstance(got, list) else ""
    return f"no response within {wait_s:g} s{extra}"


async def measure(local_ip: str, probes: list[tuple[ProbeVantage, ProbeClient]], reg: Registrar
                  ) -> tuple[Mapping, list[WireRecord]]:
    """One socket, every destination at once: the mapping and every datagram exchanged."""
    ep = await SipEndpoint.open(local_ip, 0)
    try:
        dests = [(vantage, probe, (probe.host, port), new_call_id(ep.local[0]))
                 for vantage, probe in probes
                 for port in PROBE_PORTS if (probe.host, port) != reg.addr]
        # Every Call-ID is announced before the first datagram leaves: the probes' pings must
        # still go out before the registrar's, as they always did, since a router (Linux
        # among them) may give a later flow the mapping the first one got.
        refused: dict[int, CheckError | None] = {}
        for _, probe in probes:
            try:
                await asyncio.to_thread(probe.expect, *(c for _, p, _, c in dests if p is probe))
                refused[id(probe)] = None
            except CheckError as exc:
                refused[id(probe)] = exc
        witnesses = await asyncio.gather(
            *(_reflected(ep, vantage, probe, dest, cid, refused[id(probe)])
              for vantage, probe, dest, cid in dests),
            registrar_view(ep, reg))
        return classify(ep.local[1], list(witnesses)), list(ep.wire)
    finally:
        ep.close()
