"""The site router's NAT, as the internet and the operator see it (for the registration /
keep-alive advice), from what a real site has: the outsider probe's two SIP ports, the
operator's registrar (its Via ``rport``) and, only when the profile names one, a probe at the
operator, which adds its view."""

from __future__ import annotations

import pytest

from harness.errors import CheckError
from harness.evidence import Evidence
from harness.messages import Msg, msg
from harness.probe.client import ProbeClient
from harness.profile import Profile
from harness.results import NatFigures, NatTrial, NatWitness
from harness.schedule import run_async
from sip_checks import claims
from sip_checks.probes import nat, nat_binding
from sip_checks.probes.nat_binding import BindingTrial
from sip_checks.probes.nat_mapping import Mapping, ProbeVantage, Witness
from sip_checks.session import Site
from sip_checks.toolkit.ladder import transcript


@pytest.mark.check(
    order=58,
    id="nat.behaviour",
    claims=claims.nat,
    fr="NAT : conservation des ports, type de correspondance, durée de vie des associations "
       "UDP",
    en="NAT: port preservation, mapping type, UDP binding lifetime",
)
def check_nat_behaviour(profile: Profile, server_probe: ProbeClient | None,
                        outsider_probe: ProbeClient, site: Site, evidence: Evidence,
                        nat_idle_max: float) -> None:
    probes: list[tuple[ProbeVantage, ProbeClient]] = [("outsider", outsider_probe)]
    if server_probe is not None:
        probes.insert(0, ("server", server_probe))
    m, wire = run_async(nat.measure(site.ip, probes, nat.registrar_of(profile)))
    evidence.add("NAT test socket: messages", transcript(wire), kind="messages")
    evidence.add("NAT mapping: which destination saw which port",
                 "\n".join(_said(w) for w in m.witnesses))
    if not m.seen:
        raise CheckError(msg("NAT_NO_WITNESS", tried=_named(m.witnesses)))
    trials = nat_binding.trials(probes, site.ip, nat_binding.idles_up_to(nat_idle_max))
    evidence.add("UDP binding trials", "\n".join(_trial_line(t) for t in trials))
    # Each probe's bracket; the server probe's (the registration's own path) leads when the
    # profile names one, the outsider's otherwise.
    by: dict[ProbeVantage, tuple[float | None, float | None]] = {
        v: nat_binding.bracket([t for t in trials if t.vantage == v])
        for v in ("server", "outsider") if any(t.vantage == v and t.alive is not None
                                               for t in trials)}
    source: ProbeVantage = "server" if "server" in by else "outsider"
    lo, hi = by.get(source, (None, None))
    evidence.figures.nat = _figures(m, trials, lo, hi, source if by else None)
    if m.kind is None:
        raise CheckError(msg("NAT_MAPPING_UNKNOWN", seen=_named(m.seen),
                             silent=_named(m.silent)))
    if not by:
        raise CheckError(msg("NAT_NO_TRIAL", detail=trials[0].note if trials else "none"))
    _facts(evidence, m, lo, hi)
    evidence.fact("UDP binding trials with", f"{source} probe (" + ", ".join(
        f"{v} probe {_bracket(*b)}" for v, b in by.items()) + ")")
    if m.silent:
        evidence.reserve(msg("NAT_WITNESS_SILENT", silent=_named(m.silent),
                             seen=_named(m.seen)))
    if len(set(by.values())) > 1:
        evidence.reserve(msg("NAT_LIFETIMES_DIFFER", server=_bracket(*by["server"]),
                             outsider=_bracket(*by["outsider"])))


def _figures(m: Mapping, trials: list[BindingTrial], lo: float | None, hi: float | None,
             source: ProbeVantage | None) -> NatFigures:
    return NatFigures(
        local_port=m.local_port, seen=[w.port for w in m.witnesses], mapping=m.kind or "unknown",
        alive_max_s=lo, expired_min_s=hi, lifetime_from=source,
        witnesses=[NatWitness(vantage=w.vantage, destination=w.where, port=w.port,
                              received=w.received, how=w.how, note=w.note)
                   for w in m.witnesses],
        trials=[NatTrial(vantage=t.vantage, idle_s=t.idle_s, alive=t.alive, note=t.note)
                for t in trials])


def _facts(evidence: Evidence, m: Mapping, lo: float | None, hi: float | None) -> None:
    ports = ", ".join(f"{w.vantage} {w.where}: {w.port}" for w in m.seen)
    evidence.fact("port preservation",
                  f"{'yes' if m.preserved else 'no'} (local {m.local_port}; seen by {ports})")
    evidence.fact("mapping", f"{m.kind} ({'; '.join(_said(w) for w in m.witnesses)})")
    evidence.fact("UDP binding lifetime", nat_binding.advice(lo, hi))


def _said(w: Witness) -> str:
    if w.port is None:
        return f"{w.vantage} {w.where} saw nothing ({w.note})"
    public = f"{w.received}:{w.port}" if w.received else f"port {w.port}"
    return f"{w.vantage} {w.where} saw {public} ({w.how})"


def _named(witnesses: list[Witness] | tuple[Witness, ...]) -> list[Msg]:
    who = {"server": msg("VANTAGE_SERVER"), "outsider": msg("VANTAGE_OUTSIDER"),
           "registrar": msg("NAT_REGISTRAR")}
    return [msg("NAT_AT", who=who[w.vantage], where=w.where) for w in witnesses]


def _trial_line(t: BindingTrial) -> str:
    state = {True: "alive", False: "expired", None: f"could not run ({t.note})"}[t.alive]
    return f"{t.vantage} probe, idle {t.idle_s:g} s: {state}"


def _bracket(lo: float | None, hi: float | None) -> str:
    """A bracket in figures only, the same in every language."""
    if hi is None:
        return f"≥ {lo or 0:g} s"
    return f"{lo or 0:g}–{hi:g} s"
