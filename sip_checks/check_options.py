"""Is the operator's SIP server reachable from the site and speaking SIP?

The first thing support asks when "nothing works": an OPTIONS ping from the voice LAN to the
operator server, through the customer's router, exactly as the IPBX would send it.
"""

from __future__ import annotations

import socket

import pytest

from harness.evidence import Evidence
from harness.profile import Profile
from sip_checks.sipmsg import build_request, new_branch, new_call_id
from sip_checks.transaction import udp_transaction


@pytest.mark.check(
    order=10,
    id="sip.options",
    fr="Le serveur SIP de l'opérateur répond à OPTIONS depuis le LAN voix",
    en="The operator's SIP server answers OPTIONS from the voice LAN",
)
def check_operator_answers_options(profile: Profile, evidence: Evidence) -> None:
    srv = profile.operator.sip_server
    peer = (str(srv.ip), srv.port)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.connect(peer)
        local_ip, local_port = sock.getsockname()
        branch = new_branch()
        request = build_request(
            "OPTIONS", f"sip:{srv.domain}",
            via_host=local_ip, via_port=local_port,
            from_uri=f"sip:recette@{srv.domain}", to_uri=f"sip:{srv.domain}",
            call_id=new_call_id(local_ip), cseq=1, branch=branch,
            extra=[("Accept", "application/sdp")],
        )
        try:
            ex = udp_transaction(sock, request, peer, branch=branch, timeout=8.0)
        except Exception as exc:
            partial = getattr(exc, "exchange", None)
            if partial is not None:
                evidence.add("SIP", partial.transcript())
            raise
    evidence.add("SIP", ex.transcript())
    assert ex.final is not None
    evidence.fact("status", f"{ex.final.status} {ex.final.reason}")
    rtt = (ex.received[-1][0] - ex.sent[-1][0]) * 1000
    evidence.fact("rtt_ms", f"{rtt:.1f}")
    status = ex.final.status or 0
    assert status < 500, (
        f"{srv.ip}:{srv.port} answered {status} {ex.final.reason}: the server is reachable "
        "but refuses service"
    )
