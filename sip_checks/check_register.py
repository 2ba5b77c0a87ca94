"""Registration of every trunk and Centrex account (operator handbook §I: "registration with
the parameters sent on the delivery note").

Per account: REGISTER with digest through the site's router, the expiry the registrar
grants, a refresh before that expiry, and de-registration at the end.
"""

from __future__ import annotations

import pytest

from harness.errors import fail
from harness.evidence import Evidence
from harness.messages import msg
from harness.profile import Profile
from harness.schedule import run_async
from sip_checks import claims
from sip_checks.session import Site, open_ua, record_sip, register_behind_nat


@pytest.mark.check(
    order=20,
    id="sip.register",
    claims=claims.register,
    fr="Enregistrement du compte SIP (authentification digest, renouvellement, "
       "désenregistrement)",
    en="SIP account registration (digest authentication, refresh, de-registration)",
)
def check_sip_register(profile: Profile, account: str, site: Site, evidence: Evidence) -> None:
    run_async(_registration(profile, account, site, evidence))


async def _registration(profile: Profile, account: str, site: Site, ev: Evidence) -> None:
    ua = await open_ua(profile, account, site)
    try:
        reg = await register_behind_nat(ua)
        ev.fact("status", f"{reg.status} {reg.reason}")
        said: dict[str, str | int] = {"account": account, "status": reg.status,
                                      "reason": reg.reason}
        if reg.status in (401, 403, 407):  # refused after our digest answer
            fail(msg("REGISTER_REFUSED_AUTH", **said))
        if reg.status != 200:
            fail(msg("REGISTER_REFUSED", **said))
        ev.fact("digest", reg.algorithm or "none asked")
        ev.fact("expires granted", f"{reg.granted} s (asked {reg.requested} s)")
        ev.fact("contact", reg.contact)
        if reg.public_addr:
            ev.fact("public address seen by the registrar", f"{reg.public_addr[0]}:"
                    f"{reg.public_addr[1]}")
        if not reg.granted:
            fail(msg("REGISTER_NO_EXPIRY"))
        refresh = await ua.register(expires=reg.requested)
        ev.fact("refresh", f"{refresh.status} {refresh.reason}, {refresh.granted} s")
        if refresh.status != 200:
            fail(msg("REFRESH_REFUSED", status=refresh.status, reason=refresh.reason))
        gone = await ua.unregister()
        ev.fact("de-registration", f"{gone.status} {gone.reason}")
        if gone.status != 200:
            fail(msg("UNREGISTER_REFUSED", status=gone.status, reason=gone.reason))
    finally:
        record_sip(ev, ua)
        ua.ep.close()
