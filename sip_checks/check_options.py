"""Is the operator's SIP server reachable from the site and speaking SIP?

The first thing support asks when "nothing works": an OPTIONS ping from the voice LAN to the
operator server, through the customer's router, exactly as the IPBX would send it.
"""

from __future__ import annotations

import pytest

from harness.errors import fail
from harness.evidence import Evidence
from harness.messages import msg
from harness.profile import Profile
from harness.schedule import run_async
from sip_checks import claims
from sip_checks.session import Site
from sip_checks.toolkit.endpoint import SipEndpoint
from sip_checks.toolkit.ladder import transcript
from sip_checks.toolkit.message import build_request, new_branch, new_call_id


@pytest.mark.check(
    order=10,
    id="sip.options",
    claims=claims.options,
    fr="Le serveur SIP de l'opérateur répond à OPTIONS depuis le LAN voix",
    en="The operator's SIP server answers OPTIONS from the voice LAN",
)
def check_sip_options(profile: Profile, site: Site, evidence: Evidence) -> None:
    run_async(_options(profile, site, evidence))


async def _options(profile: Profile, site: Site, evidence: Evidence) -> None:
    srv = profile.operator.sip_server
    peer = (str(srv.ip), srv.port)
    ep = await SipEndpoint.open(site.ip, 0, remote=peer)
    try:
        local_ip, local_port = ep.local
        branch = new_branch()
        request = build_request(
            "OPTIONS", f"sip:{srv.domain}",
            via_host=local_ip, via_port=local_port,
            from_uri=f"sip:recette@{srv.domain}", to_uri=f"sip:{srv.domain}",
            call_id=new_call_id(local_ip), cseq=1, branch=branch,
            extra=[("Accept", "application/sdp")],
        )
        res = await ep.transaction(request, peer, branch=branch, timeout=8.0)
    finally:
        evidence.add("SIP", transcript(ep.wire))
        ep.close()
    evidence.fact("status", f"{res.final.status} {res.final.reason}")
    evidence.fact("rtt_ms", f"{(res.final_at - res.sent_at) * 1000:.1f}")
    status = res.final.status or 0
    if status >= 500:
        fail(msg("OPTIONS_REFUSED", server=f"{srv.ip}:{srv.port}", status=status,
                 reason=res.final.reason))
