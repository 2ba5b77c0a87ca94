"""The firewall from the operator's own traffic: which ports a run samples, and when the
operator's INVITE proves the 5060 forward (sip_checks/probes/media_ports.py)."""

from __future__ import annotations

import random

import pytest

from sip_checks.probes import media_ports
from sip_checks.probes.media_ports import MediaSample, Sampling, SipFlow, plan, sip_flow
from sip_checks.toolkit.endpoint import ARRIVALS, SENT_FLOWS, SipEndpoint, WireRecord
from sip_checks.toolkit.stream import SENT_MEDIA

SITE = ("192.168.254.10", 5060)
REGISTRAR = ("198.51.100.10", 5060)
OUT_SOCKET = ("198.51.100.10", 5062)

# What the field lab's Kamailio sends to a DID's contact (shape of a carrier SBC's INVITE:
# from its outbound socket, Record-Route on both sockets).
INVITE = (
    b"INVITE sip:centrex101@192.0.2.2:5060 SIP/2.0\r\n"
    b"Record-Route: <sip:198.51.100.10:5062;r2=on;lr=on;ftag=a1>\r\n"
    b"Record-Route: <sip:198.51.100.10;r2=on;lr=on;ftag=a1>\r\n"
    b"Via: SIP/2.0/UDP 198.51.100.10:5062;branch=z9hG4bK5f1c.0\r\n"
    b"Via: SIP/2.0/UDP 192.0.2.2:40312;received=192.0.2.2;rport=40312;branch=z9hG4bKx\r\n"
    b"Max-Forwards: 69\r\n"
    b"From: <sip:trunk01@lab.recette.test>;tag=a1\r\n"
    b"To: <sip:+33199000101@lab.recette.test>\r\n"
    b"Call-ID: 0f3c@192.168.254.10\r\n"
    b"CSeq: 2 INVITE\r\n"
    b"Contact: <sip:trunk01@192.0.2.2:40312>\r\n"
    b"Content-Length: 0\r\n\r\n")
OK = (
    b"SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 192.168.254.10:5060;branch=z9hG4bKr;rport=5060;"
    b"received=192.0.2.2\r\nFrom: <sip:centrex101@lab.recette.test>;tag=r\r\n"
    b"To: <sip:centrex101@lab.recette.test>;tag=s\r\nCall-ID: reg@x\r\nCSeq: 2 REGISTER\r\n"
    b"Content-Length: 0\r\n\r\n")


def _ep(*records: WireRecord) -> SipEndpoint:
    ep = SipEndpoint()
    ep.local = SITE
    ep.wire = list(records)
    return ep


@pytest.fixture(autouse=True)
def _no_flows() -> None:
    SENT_FLOWS.clear()
    ARRIVALS.clear()


def test_plan_samples_both_edges_a_spread_and_just_outside() -> None:
    for seed in range(200):
        ports = plan(rng=random.Random(seed))
        assert ports[0] == 10000 and ports[9] == 20000 and ports[10:] == [9999, 20001]
        inner = ports[1:9]
        assert all(p % 2 == 0 for p in inner)  # RTP ports are even (RFC 3550 11)
        for i, p in enumerate(inner):  # one per slice of 1 250 ports, clear of its edges
            assert 10000 + i * 1250 < p < 10000 + (i + 1) * 1250
    assert plan(rng=random.Random(1)) != plan(rng=random.Random(2))


def test_an_invite_on_a_flow_the_site_never_opened_proves_the_forward() -> None:
    SENT_FLOWS[(SITE, REGISTRAR)] = 99.0  # the REGISTER, to 5060
    ep = _ep(WireRecord(99.0, True, SITE, REGISTRAR, b"REGISTER ..."),
             WireRecord(99.1, False, SITE, REGISTRAR, OK),
             WireRecord(100.0, False, SITE, OUT_SOCKET, INVITE))
    flow = sip_flow(ep, REGISTRAR, ("192.0.2.2", 5060))
    assert flow.proven is True
    assert (flow.method, flow.source, flow.local_port) == ("INVITE", OUT_SOCKET, 5060)
    assert "a new flow, through the forward" in flow.line()
    assert "198.51.100.10:5062" in flow.line() and "seen as 192.0.2.2:5060" in flow.line()


def test_an_invite_on_the_registrations_own_flow_proves_nothing() -> None:
    SENT_FLOWS[(SITE, REGISTRAR)] = 99.0
    ep = _ep(WireRecord(100.0, False, SITE, REGISTRAR, INVITE))
    flow = sip_flow(ep, REGISTRAR, None)
    assert flow.proven is False and "proves nothing" in flow.line()


def test_the_sites_answers_do_not_erase_the_register_that_opened_the_flow() -> None:
    """An operator sending everything from one address:port: the REGISTER left 5060 for
    it, so its INVITE rides that flow whatever the site sent on it since (our 100 Trying and
    200 OK to that INVITE, sent through the endpoint itself)."""

    class Transport:
        def get_extra_info(self, name: str) -> object:
            return ("192.168.254.10", 5060) if name == "sockname" else None

        def sendto(self, data: bytes, peer: object) -> None:
            pass

    ep = SipEndpoint()
    ep.connection_made(Transport())  # type: ignore[arg-type]
    ep.send(b"REGISTER sip:x SIP/2.0\r\n\r\n", REGISTRAR)
    registered = SENT_FLOWS[(SITE, REGISTRAR)]
    ep.wire.append(WireRecord(registered + 1.0, False, SITE, REGISTRAR, INVITE))
    ep.send(b"SIP/2.0 100 Trying\r\n\r\n", REGISTRAR)
    ep.send(b"SIP/2.0 200 OK\r\n\r\n", REGISTRAR)
    assert SENT_FLOWS[(SITE, REGISTRAR)] == registered  # the first send, kept
    flow = sip_flow(ep, REGISTRAR, None)
    assert flow.source == REGISTRAR and flow.proven is False
    assert "proves nothing" in flow.line() and "a new flow" not in flow.line()


def test_a_flow_opened_after_the_invite_does_not_count() -> None:
    SENT_FLOWS[(SITE, OUT_SOCKET)] = 101.0  # our answer to it, later
    flow = sip_flow(_ep(WireRecord(100.0, False, SITE, OUT_SOCKET, INVITE)), REGISTRAR, None)
    assert flow.proven is True


def test_a_flow_opened_from_another_port_does_not_count() -> None:
    SENT_FLOWS[(("192.168.254.10", 40312), OUT_SOCKET)] = 50.0
    flow = sip_flow(_ep(WireRecord(100.0, False, SITE, OUT_SOCKET, INVITE)), REGISTRAR, None)
    assert flow.proven is True


def test_responses_in_dialog_requests_and_junk_are_not_the_operators_request() -> None:
    bye = INVITE.replace(b"INVITE sip:", b"BYE sip:", 1).replace(b"2 INVITE", b"3 BYE")
    ep = _ep(WireRecord(100.0, False, SITE, OUT_SOCKET, OK),
             WireRecord(100.1, False, SITE, OUT_SOCKET, bye),
             WireRecord(100.2, False, SITE, OUT_SOCKET, b"\x80\x08junk", "dropped: junk"))
    flow = sip_flow(ep, REGISTRAR, None)
    assert flow.proven is None and flow.source is None
    assert flow.line() == "no request from the operator reached the site's SIP port"


def test_options_from_another_address_is_kept_with_its_source() -> None:
    options = INVITE.replace(b"INVITE sip:", b"OPTIONS sip:", 1).replace(b"2 INVITE",
                                                                       b"2 OPTIONS")
    flow = sip_flow(_ep(WireRecord(100.0, False, SITE, ("198.51.100.40", 5060), options)),
                    REGISTRAR, None)
    assert flow.method == "OPTIONS" and flow.source == ("198.51.100.40", 5060)


@pytest.mark.parametrize(("sample", "says"), [
    (MediaSample(10000, "open", first_ms=11.2, sources=["198.51.100.10:30610"],
                 sdp="198.51.100.10:30610"),
     "10000: OPEN, operator media arrived first after 11 ms from 198.51.100.10:30610"),
    (MediaSample(9999, "closed", after_punch_ms=21.0, sources=["198.51.100.30:31250"]),
     "9999: CLOSED, nothing in 2 s of silence; media arrived 21 ms after we sent from "
     "198.51.100.30:31250"),
    (MediaSample(15002, "silent", sdp="198.51.100.10:31000"),
     "15002: unproven, no operator media at all (SDP 198.51.100.10:31000)"),
])
def test_each_outcome_reads_as_what_happened(sample: MediaSample, says: str) -> None:
    assert sample.line().startswith(says)


def test_media_addresses_come_from_sdp_and_actual_sources() -> None:
    s = Sampling("r", [MediaSample(10000, "open", sources=["198.51.100.10:30000"],
                                   sdp="198.51.100.10:30000"),
                       MediaSample(20000, "closed", sources=["198.51.100.30:30002"],
                                   sdp="198.51.100.31:30002")], SipFlow(), 1.0)
    assert s.media_addresses() == {"198.51.100.10", "198.51.100.30", "198.51.100.31"}
    assert [x.in_range for x in s.samples] == [True, True]
    assert not MediaSample(media_ports.OUTSIDE[1], "open").in_range


def test_a_port_an_earlier_call_sent_from_is_not_sampled() -> None:
    """Its conntrack entry may outlive the call: media arriving there proves nothing."""
    SENT_MEDIA.clear()
    SENT_MEDIA[("192.168.254.10", 12500)] = 1.0
    SENT_MEDIA[("192.168.254.10", 12502)] = 1.0
    SENT_MEDIA[("192.168.254.10", 10000)] = 1.0
    try:
        assert media_ports.fresh("192.168.254.10", 12500, fixed=False) == 12498
        assert media_ports.fresh("192.168.254.10", 10000, fixed=True) is None
        assert media_ports.fresh("192.168.254.10", 14000, fixed=True) == 14000
        assert media_ports.fresh("192.168.254.11", 12500, fixed=False) == 12500
    finally:
        SENT_MEDIA.clear()


def test_the_runs_first_invite_on_the_flow_decides_whichever_check_got_it() -> None:
    """An inbound call earlier in the run got the operator's INVITE on a flow the site had
    never sent on (proof), then answered it (the flow is now the site's): the firewall
    check's own INVITE on that flow still rests on the first one."""
    ARRIVALS[(SITE, OUT_SOCKET)] = (50.0, "INVITE")
    SENT_FLOWS[(SITE, OUT_SOCKET)] = 50.1  # the earlier call's 100 Trying
    flow = sip_flow(_ep(WireRecord(100.0, False, SITE, OUT_SOCKET, INVITE)), REGISTRAR, None)
    assert flow.proven is True and flow.earlier and flow.first_at == 50.0
    assert "came in an earlier check" in flow.line()
    # but if the site had sent on it before even that first INVITE, nothing is proven
    SENT_FLOWS[(SITE, OUT_SOCKET)] = 49.0
    flow = sip_flow(_ep(WireRecord(100.0, False, SITE, OUT_SOCKET, INVITE)), REGISTRAR, None)
    assert flow.proven is False
