"""The gate's name for a site, shared by the agent (its sweeps ask the probe to sign for it)
and the console (which records the verification when the run is uploaded).

The agent writes no gate: :mod:`harness.console.gatekeeper` alone records verifications.
"""

from __future__ import annotations

from harness.profile import Profile, normalise_siret


def site_key(profile: Profile) -> str:
    """The gate's name for a site: SIRET and site name (one customer, several sites). The
    SIRET is normalised as the console's intake does (:mod:`harness.console.intake`): a
    SIRET written with spaces must not make a look-alike site."""
    siret = normalise_siret(profile.customer.siret) if profile.customer.siret else ""
    return f"{siret or profile.customer.name}/{profile.site.name}"
