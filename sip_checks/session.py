"""What every SIP check does first: open the endpoint, register, learn the public address.

Kept apart from the checks so each check reads as the procedure it verifies.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass

from harness.errors import CheckError
from harness.evidence import Evidence
from harness.probe_client import ProbeClient
from harness.profile import Profile, Thresholds

from .endpoint import SipEndpoint
from .ladder import render, transcript
from .quality import Quality, assess
from .ua import CallRecord, Identity, Registration, UserAgent


@dataclass
class Site:
    """Where the checks run from: the agent's LAN address and SIP port."""

    ip: str
    sip_port: int = 5060


def identity(profile: Profile, user: str) -> Identity:
    acc = next(a for a in profile.accounts() if a.user == user)
    srv = profile.operator.sip_server
    return Identity(acc.user, acc.auth_username, acc.secret(), srv.domain,
                    (str(srv.ip), srv.port))


async def open_ua(profile: Profile, user: str, site: Site) -> UserAgent:
    ep = await SipEndpoint.open(site.ip, site.sip_port)
    return UserAgent(ep, identity(profile, user))


async def register_behind_nat(ua: UserAgent) -> Registration:
    """REGISTER; when the registrar saw another source address (NAT), register again with
    that public address in Via/Contact, as an IPBX with its external address set does, so
    calls and media are sent to the router's forwarded ports."""
    reg = await ua.register()
    if reg.status == 200 and reg.public_addr and reg.public_addr[0] != ua.ep.local[0]:
        await ua.unregister()  # or the registrar forks calls to both bindings
        ua.advertised = (reg.public_addr[0], ua.ep.local[1])
        reg = await ua.register()
    return reg


def record_sip(evidence: Evidence, ua: UserAgent, *, call_id: str | None = None,
               title: str = "SIP") -> None:
    evidence.add(f"{title}: ladder", render(ua.ep.wire, call_id=call_id))
    evidence.add(f"{title}: messages", transcript(ua.ep.wire, call_id=call_id))


def call_quality(rec: CallRecord, t: Thresholds) -> list[Quality]:
    """One :class:`Quality` per received direction of the call (far end's stream, echo)."""
    media = rec.media
    if media is None:
        return []
    rtt = statistics.median(media.echo_rtt_ms) if media.echo_rtt_ms else None
    out = []
    for ssrc, st in media.rx.items():
        own = ssrc == media.ssrc
        direction = "site→far end→site (echo)" if own else "far end→site"
        out.append(assess(
            direction=direction, sent=media.sent if own else None, received=st.received,
            expected=st.expected, loss_pct=st.loss_pct, jitter_ms=st.jitter_ms,
            jitter_max_ms=st.jitter_max_ms, rtt_ms=rtt, ptime_ms=media.ptime_ms,
            loss_max=t.loss_pct, jitter_max=t.jitter_ms, delay_max=t.one_way_delay_ms,
            r_pass=t.r_pass, r_warn=t.r_warn))
    return out


def one_way_diagnosis(rec: CallRecord) -> str | None:
    """Which direction is silent, from what came back; None when audio flowed both ways."""
    media = rec.media
    if media is None or rec.answered is None:
        return None
    far = [s for ssrc, s in media.rx.items() if ssrc != media.ssrc and s.received > 0]
    echo = media.rx.get(media.ssrc)
    if media.sent == 0:
        return f"site→far end silent: the site sent no RTP ({media.send_errors} send errors)"
    if not far and echo is None:
        where = f"{rec.remote_media[0]}:{rec.remote_media[1]}" if rec.remote_media else "?"
        return ("far end→site silent: no RTP received at all (inbound media blocked by the "
                f"firewall/NAT, or our SDP address unreachable); we sent {media.sent} "
                f"packets to {where}")
    if far and echo is None:
        return ("site→far end silent: the far end's audio arrives but our own RTP never comes "
                f"back from its echo ({media.sent} sent): outbound media is lost")
    return None


@dataclass(frozen=True)
class CallVerdict:
    """What one call says, judged the same way by every check that places calls.

    ``symptom`` is the single line an incident row and a failed check carry: the signalling
    failure first, then a silent direction, then poor quality; None for a good call.
    ``reserves`` are the directions whose quality is below "good" but not failing.
    """

    qualities: list[Quality]
    silent: str | None
    symptom: str | None
    reserves: list[str]

    @property
    def worst_mos(self) -> float:
        return min((q.mos for q in self.qualities), default=0.0)


def judge_call(rec: CallRecord, t: Thresholds) -> CallVerdict:
    qualities = call_quality(rec, t)
    silent = one_way_diagnosis(rec)
    bad = [q for q in qualities if q.grade == "bad"]
    signalling = rec.symptom or (None if rec.status == 200
                                 else f"call failed: {rec.status} {rec.reason}")
    poor = ("poor voice quality: " + "; ".join(", ".join(q.problems) for q in bad)
            if bad else None)
    reserves = [f"{q.direction}: {', '.join(q.problems)}" for q in qualities if q.problems]
    return CallVerdict(qualities, silent, signalling or silent or poor, reserves)


def probe_client(profile: Profile, name: str) -> ProbeClient:
    """A client for the profile's ``server`` or ``outsider`` probe, or a CheckError saying
    what the profile lacks."""
    vp = getattr(profile.vantage_points, name)
    if vp is None:
        raise CheckError(f"no vantage_points.{name} in the profile: cannot test from there")
    key = vp.secret()
    if key is None:
        raise CheckError(f"vantage_points.{name}: no key (key or key_env) for its probe")
    return ProbeClient(str(vp.address), vp.control_port, key, name=f"{name} probe")
