"""What every SIP check does first: open the endpoint, register, learn the public address.

Kept apart from the checks so each check reads as the procedure it verifies.
"""

from __future__ import annotations

import weakref
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol

from harness.errors import CheckError, fail, ssl_reason
from harness.evidence import Evidence
from harness.messages import msg
from harness.probe.client import ProbeClient
from harness.profile import Profile
from harness.results import SipDialog
from sip_checks.toolkit.dialog import render_events, where
from sip_checks.toolkit.endpoint import SipEndpoint, WireRecord
from sip_checks.toolkit.ladder import render, transcript
from sip_checks.toolkit.site_port import call_id_of
from sip_checks.toolkit.ua import CallRecord, Identity, Registration, UserAgent


@dataclass
class Site:
    """Where the checks run from: the agent's LAN address and SIP port."""

    ip: str
    sip_port: int = 5060
    # The site's public address as the registrar saw it (Via received), once a user agent
    # opened on this site registered: what the firewall check names as the sweeps' target.
    public: str | None = None


# The site each user agent was opened on, so that its registration can tell the site what
# the registrar saw (register_behind_nat takes only the user agent, as its callers have it).
_SITES: weakref.WeakKeyDictionary[UserAgent, Site] = weakref.WeakKeyDictionary()


class CallerResult(Protocol):
    """How an operator-side call attempt ended."""

    trace: str

    def summary(self) -> str: ...


class InboundCaller(Protocol):
    """Something on the operator side that calls the site's numbers."""

    async def call(self, did: str, *, talk_s: float) -> CallerResult: ...


def identity(profile: Profile, user: str) -> Identity:
    acc = next(a for a in profile.accounts() if a.user == user)
    srv = profile.operator.sip_server
    return Identity(acc.user, acc.auth_username, acc.secret(), srv.domain,
                    (str(srv.ip), srv.port))


async def open_ua(profile: Profile, user: str, site: Site, *, port: int | None = None
                  ) -> UserAgent:
    """A user agent for ``user`` on the site's SIP port (the one the router forwards to the
    IPBX), or on ``port`` (0: any free port, for a leg that only calls out)."""
    ep = await SipEndpoint.open(site.ip, site.sip_port if port is None else port)
    ua = UserAgent(ep, identity(profile, user))
    _SITES[ua] = site
    return ua


async def register_behind_nat(ua: UserAgent) -> Registration:
    """REGISTER; when the registrar saw another source address (NAT), register again with
    that public address in Via/Contact, as an IPBX with its external address set does, so
    calls and media are sent to the router's forwarded ports. On the shared site port the
    address another line learned is used at once (one REGISTER, and no private binding
    that the registrar would fork another check's calls to)."""
    site = ua.ep.site
    if site is not None and site.public is not None and ua.advertised is None:
        ua.advertised = (site.public[0], ua.ep.local[1])
    reg = await ua.register()
    if reg.status == 200 and reg.public_addr and reg.public_addr[0] != ua.contact_addr[0]:
        await ua.unregister()  # or the registrar forks calls to both bindings
        ua.advertised = (reg.public_addr[0], ua.ep.local[1])
        reg = await ua.register()
    if reg.status == 200 and site is not None and ua.advertised is not None:
        site.public = ua.advertised
    opened_on = _SITES.get(ua)
    # The registrar's own word (Via received), else what it told another line on this port.
    # Our own address back is no public address: a SIP ALG rewrites the answer's Via to the
    # private address it translated (the firewall check then names the outsider's view).
    seen = reg.public_addr or (site.public if site is not None else None)
    if (reg.status == 200 and seen is not None and opened_on is not None
            and seen[0] != ua.ep.local[0]):
        opened_on.public = seen[0]
    return reg


def require_registered(reg: Registration, account: str) -> None:
    """Fail the check when a call cannot even start: the account did not register."""
    if reg.status != 200:
        fail(msg("CANNOT_REGISTER", account=account, status=reg.status, reason=reg.reason))


def record_sip(evidence: Evidence, ua: UserAgent, *, call_id: str | None = None,
               title: str = "SIP") -> None:
    """The ladder and the messages, and each dialog's Call-ID: what finds the same frames in
    the run's capture.pcapng (the sheet's annex prints the display filter)."""
    evidence.add(f"{title}: ladder", render(ua.ep.wire, call_id=call_id), kind="ladder")
    evidence.add(f"{title}: messages", transcript(ua.ep.wire, call_id=call_id),
                 kind="messages")
    known = {d.call_id for d in evidence.figures.sip_dialogs}
    for dialog in sip_dialogs(ua.ep.wire, call_id=call_id, title=title):
        if dialog.call_id not in known:
            known.add(dialog.call_id)
            evidence.figures.sip_dialogs.append(dialog)


def record_call(evidence: Evidence, rec: CallRecord, *, title: str = "call") -> None:
    """How long the answered call lasted, its early media, where its RTP came from, and
    what happened in it after the INVITE (PRACK, re-INVITE, UPDATE, refreshes, BYE): the
    reading of a call that died after its answer."""
    if rec.answered is not None:
        evidence.fact(f"{title} duration", f"{rec.lasted()} s")
    if rec.early_media:
        evidence.fact(f"{title} early media", f"{rec.early_media} RTP packets before the 200 OK")
    media = rec.media
    if media is not None and len(media.rx_from) > 1:
        evidence.fact(f"{title} RTP sources", ", ".join(
            f"{where(src)} ({n})" for src, n in list(media.rx_from.items())))
    if rec.events:
        evidence.add(f"{title}: in-dialog events", render_events(rec.events, rec.started))


def sip_dialogs(records: Iterable[WireRecord], *, call_id: str | None = None,
                title: str = "") -> list[SipDialog]:
    """Every Call-ID of ``records`` (only ``call_id`` when given), in order of appearance,
    with the method of its first request (a response alone leaves it blank)."""
    found: dict[str, str] = {}
    for rec in records:
        cid = call_id_of(rec.data)
        if cid is None or (call_id is not None and cid != call_id):
            continue
        first = rec.data.split(b" ", 1)[0]
        method = "" if first.startswith(b"SIP/") or not first.isalpha() \
            else first.decode("ascii")
        if not found.get(cid):
            found[cid] = method
    return [SipDialog(call_id=c, method=m, title=title) for c, m in found.items()]


def probe_client(profile: Profile, name: str) -> ProbeClient:
    """A client for the profile's ``server`` or ``outsider`` probe (HTTPS when the vantage
    point says so), or a CheckError saying what the profile lacks or what is wrong with it."""
    vp = getattr(profile.vantage_points, name)
    if vp is None:
        raise CheckError(msg("NO_VANTAGE_POINT", name=name))
    key = vp.secret()
    if key is None:
        raise CheckError(msg("NO_VANTAGE_KEY", name=name))
    try:
        tls = vp.ssl_context()
    except OSError as exc:  # ssl.SSLError included: the CA file changed since the profile loaded
        raise CheckError(msg("PROBE_TLS_CA", name=name, path=str(vp.tls_ca),
                             detail=ssl_reason(exc))) from None
    return ProbeClient(str(vp.address), vp.control_port, key, vantage=name, tls=tls)
