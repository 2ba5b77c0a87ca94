"""Registration of every trunk and Centrex account (operator handbook §I: "registration with
the parameters sent on the delivery note").

Per account: REGISTER with digest through the site's router, the expiry the registrar
grants, a refresh before that expiry, and de-registration at the end.
"""

from __future__ import annotations

import asyncio

import pytest

from harness.evidence import Evidence
from harness.profile import Profile
from sip_checks.session import Site, open_ua, record_sip, register_behind_nat


@pytest.mark.check(
    order=20,
    id="sip.register",
    fr="Enregistrement du compte SIP (authentification digest, renouvellement, "
       "désenregistrement)",
    en="SIP account registration (digest authentication, refresh, de-registration)",
)
def check_sip_register(profile: Profile, account: str, site: Site, evidence: Evidence) -> None:
    asyncio.run(_registration(profile, account, site, evidence))


async def _registration(profile: Profile, account: str, site: Site, ev: Evidence) -> None:
    ua = await open_ua(profile, account, site)
    try:
        reg = await register_behind_nat(ua)
        ev.fact("status", f"{reg.status} {reg.reason}")
        assert reg.status == 200, (
            f"registration of {account} refused: {reg.status} {reg.reason}"
            + (" after our digest answer (wrong password or auth user?)"
               if reg.status in (401, 403, 407) else "")
        )
        ev.fact("digest", reg.algorithm or "none asked")
        ev.fact("expires granted", f"{reg.granted} s (asked {reg.requested} s)")
        ev.fact("contact", reg.contact)
        if reg.public_addr:
            ev.fact("public address seen by the registrar", f"{reg.public_addr[0]}:"
                    f"{reg.public_addr[1]}")
        assert reg.granted, "the 200 OK does not say how long the binding lasts"
        refresh = await ua.register(expires=reg.requested)
        ev.fact("refresh", f"{refresh.status} {refresh.reason}, {refresh.granted} s")
        assert refresh.status == 200, (
            f"refresh of the registration refused: {refresh.status} {refresh.reason}")
        gone = await ua.unregister()
        ev.fact("de-registration", f"{gone.status} {gone.reason}")
        assert gone.status == 200, f"de-registration refused: {gone.status} {gone.reason}"
    finally:
        record_sip(ev, ua)
        ua.ep.close()
