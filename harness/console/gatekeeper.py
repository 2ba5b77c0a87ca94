"""What an uploaded run's firewall verification is worth to the international-option gate.

The console is the gate's only authority: a site agent uploads its run and the console, not
the agent, records the verification, with the server's clock and the uploader's identity.
It believes a failure as declared (a failure only closes the option), but a pass starts the
24 h clock only when every outsider sweep it cites carries a valid attestation of the probe
(:mod:`harness.attest`): signed by a probe key registered here, fresh against the console's
own receipt time, aimed at the site's public address seen in the run, made for this site, and
never used by another run. What the probe cannot see stays the agent's word and is recorded
as such: which swept ports received the datagrams, the operator's own traffic, the router's
configuration. A pass that fails any of these is kept in the trail as unattested and starts
nothing.

What an attacker on the internet reaches weighs as much (issue 25): a run whose
``security.exposure`` fails is a failure whatever its firewall says, and a firewall pass starts
the wait only beside an exposure pass whose scans, cold and warm, carry the outsider probe's
attestation that it found nothing open on the ports an attacker tries first. A pass without
that is unproven: kept in the trail, it starts nothing. A failing
``security.sip_from_outside`` (the site answered the attacker's SIP moves: a PBX answering,
extensions enumerable, an unauthenticated international call taken) blocks the same way.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from harness.attest import AttestationError, verify
from harness.gate.store import Kind
from harness.portset import fmt
from harness.profile import RTP_RANGE, SIP_PORT

MAX_AGE = dt.timedelta(hours=24)  # an attestation older than this at receipt is stale
SKEW = dt.timedelta(minutes=5)  # a probe's clock ahead of the console's by at most this
CHECK = "firewall.openings"
NEEDED = frozenset({SIP_PORT, *RTP_RANGE})
PHASES = ("cold", "warm")
EXPOSURE = "security.exposure"
# The attacker's SIP moves from the internet: a failure blocks like a failing exposure.
SIP_FROM_OUTSIDE = "security.sip_from_outside"
# The ports an exposure scan must have covered for its "nothing open" to back a pass: SIP on
# every transport, and the provisioning and administration an attacker tries first.
EXPOSURE_NEEDED = frozenset({"5060/udp", "5060/tcp", "5061/tcp", "69/udp", "80/tcp",
                             "443/tcp", "22/tcp", "23/tcp"})


@dataclass(frozen=True)
class ProbeKey:
    """A registered probe's public key (:meth:`ConsoleStore.add_probe_key`)."""

    key_id: str
    name: str
    public: str


@dataclass
class Verification:
    """The console's decision on one run: what it records in the gate (``kind`` None:
    nothing, the run gave no verdict), what the probe attested, what rests on the agent's
    word, and why an attestation was refused."""

    kind: Kind | None
    status: str | None
    note: str
    attested: list[dict[str, Any]] = field(default_factory=list)
    declared: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    digests: list[str] = field(default_factory=list)
    exposure: list[dict[str, Any]] = field(default_factory=list)  # attested exposure scans
    detail: dict[str, Any] = field(default_factory=dict)
    # ``note`` as a code and its parameters: the console says it in the page's language
    # (harness.console.wording); ``note`` stays English for the API and the CLI.
    note_code: str = ""
    note_params: dict[str, str] = field(default_factory=dict)

    def summary(self) -> dict[str, Any]:
        """What the run's row keeps (the site page's "recorded as" column)."""
        return {"kind": self.kind, "status": self.status, "note": self.note,
                "note_code": self.note_code, "note_params": self.note_params,
                "refused": self.refused, "attested": len(self.attested)}


def digest_of(att: Mapping[str, Any]) -> str:
    """What identifies one attestation for the one-use rule: the SHA-256 of its signed
    text."""
    return hashlib.sha256(str(att.get("doc")).encode()).hexdigest()


def candidates(results: Mapping[str, Any]) -> list[str]:
    """The digests of the attestations the run's firewall and exposure checks carry: the
    only rows of the used-attestations table an upload needs to look at."""
    out = []
    for check_id, key in ((CHECK, "sweeps"), (EXPOSURE, "exposure")):
        c = _check(results, check_id)
        figures = c.get("figures") if c and isinstance(c.get("figures"), dict) else {}
        assert isinstance(figures, dict)
        out += [digest_of(s["attestation"]) for s in figures.get(key) or []
                if isinstance(s, dict) and isinstance(s.get("attestation"), dict)]
    return out


def _check(results: Mapping[str, Any], check_id: str) -> dict[str, Any] | None:
    checks = results.get("checks")
    if not isinstance(checks, list):
        return None
    return next((c for c in checks if isinstance(c, dict) and c.get("id") == check_id), None)


def _firewall(results: Mapping[str, Any]) -> dict[str, Any] | None:
    return _check(results, CHECK)


def _ports(spans: object) -> set[int]:
    """The ports of a ``[[lo, hi], ...]`` list (an attestation's), bounded to 0..65535."""
    out: set[int] = set()
    if not isinstance(spans, list):
        return out
    for span in spans[:1000]:
        if (isinstance(span, list) and len(span) == 2
                and all(isinstance(p, int) and not isinstance(p, bool) for p in span)):
            out.update(range(max(0, span[0]), min(65535, span[1]) + 1))
    return out


def _at(doc: Mapping[str, Any]) -> dt.datetime:
    try:
        at = dt.datetime.fromisoformat(str(doc.get("at")))
    except ValueError:
        raise AttestationError("its time is not ISO 8601") from None
    if at.tzinfo is None:
        raise AttestationError("its time has no time zone")
    return at.astimezone(dt.UTC)


def _attested(item: Mapping[str, Any], keys: Mapping[str, ProbeKey], kind: str, *, site: str,
              public: str | None, received: dt.datetime
              ) -> tuple[dict[str, Any], dt.datetime, ProbeKey, str]:
    """The signed document of one sweep or scan, once it is this ``kind``, fresh, for this
    site and aimed at its public address: (document, its time, the probe's key, target)."""
    att = item.get("attestation")
    if not isinstance(att, dict):
        raise AttestationError("unsigned (a probe without a signing key, or removed)")
    doc = verify(att, {k: v.public for k, v in keys.items()})
    if doc.get("kind") != kind:
        raise AttestationError(f"signs a {str(doc.get('kind'))[:20]!r}, not a {kind}")
    at = _at(doc)
    if at > received + SKEW:
        raise AttestationError(f"dated {at:%Y-%m-%d %H:%M:%S}Z, after its receipt")
    if at < received - MAX_AGE:
        raise AttestationError(f"stale: made {at:%Y-%m-%d %H:%M}Z, more than "
                               f"{int(MAX_AGE.total_seconds() // 3600)} h before its receipt")
    if doc.get("site") != site:
        raise AttestationError(f"made for site {str(doc.get('site'))[:200]!r}, not {site!r}")
    target = str(doc.get("target"))
    if public is None:
        raise AttestationError("the run names no public address of the site to compare with")
    if target != public:
        raise AttestationError(f"sent to {target[:64]}, not to the site's public address "
                               f"{public}")
    return doc, at, keys[str(att.get("key"))], target


def _check_sweep(sweep: Mapping[str, Any], keys: Mapping[str, ProbeKey], *, site: str,
                 public: str | None, received: dt.datetime) -> tuple[dict[str, Any], str]:
    """The attested facts of one sweep and its digest; AttestationError saying why not."""
    doc, at, key, target = _attested(sweep, keys, "sweep", site=site, public=public,
                                     received=received)
    swept = _ports(doc.get("ports"))
    if missing := NEEDED - swept:
        raise AttestationError(f"does not cover UDP {fmt(missing)}")
    sent = doc.get("sent")
    if not isinstance(sent, int) or sent < len(swept):
        raise AttestationError(f"{sent!r} datagrams sent for {len(swept)} ports")
    facts = {"vantage": sweep.get("vantage"), "phase": sweep.get("phase"),
             "probe": f"{key.name} ({key.key_id})", "target": target,
             "source": str(doc.get("source"))[:64], "at": at.isoformat(),
             "ports": fmt(swept), "sent": sent}
    return facts, digest_of(sweep["attestation"])


def _check_scan(scan: Mapping[str, Any], keys: Mapping[str, ProbeKey], *, site: str,
                public: str | None, received: dt.datetime) -> tuple[dict[str, Any], str]:
    """The attested facts of one exposure scan that found nothing open, and its digest;
    AttestationError saying why it backs no pass."""
    doc, at, key, target = _attested(scan, keys, "scan", site=site, public=public,
                                     received=received)
    ports = doc.get("ports")
    scanned = {p for p in ports[:200] if isinstance(p, str)} if isinstance(ports, list) else set()
    if missing := EXPOSURE_NEEDED - scanned:
        raise AttestationError(f"does not cover {', '.join(sorted(missing))}")
    found = doc.get("open")
    if not isinstance(found, list):
        raise AttestationError("says nothing of what it found open")
    if found:
        raise AttestationError("the probe found open: " + ", ".join(map(str, found))[:200])
    facts = {"phase": scan.get("phase"), "probe": f"{key.name} ({key.key_id})",
             "target": target, "at": at.isoformat(), "ports": len(scanned), "open": "none"}
    return facts, digest_of(scan["attestation"])


def _back_exposure(v: Verification, exp: Mapping[str, Any] | None,
                   keys: Mapping[str, ProbeKey], *, site: str, public: str | None,
                   received: dt.datetime, used: set[str]) -> None:
    """What backs a firewall pass from the exposure check: its attested scans into
    ``v.exposure``, or the reasons it backs nothing into ``v.refused``."""
    unproven = "what an attacker on the internet reaches is unproven"
    if exp is None:
        v.refused.append(f"no {EXPOSURE} check in the run: {unproven}")
        return
    if exp.get("status") != "pass":
        v.refused.append(f"{EXPOSURE}: {str(exp.get('status'))[:20]}: {unproven}")
        return
    figures = exp.get("figures") if isinstance(exp.get("figures"), dict) else {}
    assert isinstance(figures, dict)
    phases: set[str] = set()
    for s in [s for s in figures.get("exposure") or [] if isinstance(s, dict)][:10]:
        label = f"{str(s.get('phase'))[:20]} exposure scan"
        try:
            facts, digest = _check_scan(s, keys, site=site, public=public, received=received)
            if digest in used or digest in v.digests:
                raise AttestationError("already used by another run")
        except AttestationError as exc:
            v.refused.append(f"{label}: {exc}")
            continue
        v.exposure.append(facts)
        v.digests.append(digest)
        phases.add(str(s.get("phase")))
    for phase in PHASES:
        if phase not in phases and not any(r.startswith(f"{phase} exposure scan")
                                           for r in v.refused):
            v.refused.append(f"no {phase} exposure scan from the outsider probe in the run")


def _exposure_failure(exp: Mapping[str, Any], fw: Mapping[str, Any] | None,
                      check_id: str = EXPOSURE) -> Verification:
    """A failing exposure check (``security.exposure`` or ``security.sip_from_outside``):
    believed as declared, like a failing firewall check."""
    reasons = [str(m.get("text", m.get("code", "")))[:300]
               for m in exp.get("reasons") or [] if isinstance(m, dict)][:40]
    v = Verification("verification_fail", "fail",
                     f"{check_id} failed: the site answers attackers from the internet; "
                     "it blocks the option until a new verified pass",
                     note_code="exposure_failed", note_params={"check": check_id})
    v.detail = {"check": "fail", "firewall": str(fw.get("status")) if fw else None,
                "exposure": reasons, "attested": [], "declared": [], "refused": []}
    return v


def _declared(fw: Mapping[str, Any], public: Mapping[str, Any] | None) -> list[str]:
    figures = fw.get("figures") or {}
    out = ["which swept ports received the probes' datagrams (the agent's listener)"]
    if figures.get("operator_traffic"):
        out.append("the operator's own traffic (its INVITE, its media on sampled ports)")
    if "configuration" in str((fw.get("facts") or {}).get("evidence", "")):
        out.append("the router's configuration")
    if public and public.get("seen_by") == "registrar":
        out.append("the site's public address as the operator's registrar saw it")
    return out


def decide(results: Mapping[str, Any], *, site: str, received: dt.datetime,
           keys: Mapping[str, ProbeKey], used: set[str]) -> Verification:
    """The verification ``results`` (a results.json) brings for ``site``, received now by
    the console. ``used``: digests of attestations other runs already used."""
    fw = _firewall(results)
    exp = _check(results, EXPOSURE)
    if exp is not None and exp.get("status") == "fail":
        return _exposure_failure(exp, fw)
    moves = _check(results, SIP_FROM_OUTSIDE)
    if moves is not None and moves.get("status") == "fail":
        return _exposure_failure(moves, fw, SIP_FROM_OUTSIDE)
    status = str(fw.get("status")) if fw else None
    if fw is None or status not in ("pass", "fail"):
        note = ("no firewall verification in this run" if fw is None else
                f"{CHECK}: {status}: nothing proven either way, nothing recorded")
        return Verification(None, status, note,
                            note_code="none" if fw is None else "nothing_proven",
                            note_params={} if fw is None else {"check": CHECK,
                                                                "status": str(status)})
    figures = fw.get("figures") if isinstance(fw.get("figures"), dict) else {}
    assert isinstance(figures, dict)
    public = figures.get("public_address") if isinstance(figures.get("public_address"),
                                                         dict) else None
    address = str(public["address"]) if public and public.get("address") else None
    sweeps = [s for s in figures.get("sweeps") or [] if isinstance(s, dict)]
    v = Verification("verification_pass" if status == "pass" else "verification_fail",
                     status, "", declared=_declared(fw, public))
    seen: dict[str, int] = {}
    for s in sweeps:
        label = f"{s.get('phase')} sweep from the {s.get('vantage')}"
        try:
            facts, digest = _check_sweep(s, keys, site=site, public=address, received=received)
            if digest in used or digest in v.digests:
                raise AttestationError("already used by another run")
        except AttestationError as exc:
            if s.get("vantage") == "outsider":
                v.refused.append(f"{label}: {exc}")
            else:
                v.declared.append(f"the {label} ({exc})")
            continue
        v.attested.append(facts)
        v.digests.append(digest)
        if s.get("vantage") == "outsider":
            seen[str(s.get("phase"))] = seen.get(str(s.get("phase")), 0) + 1
    for phase in PHASES:
        if not seen.get(phase) and not any(f"{phase} sweep from the outsider" in r
                                           for r in v.refused):
            v.refused.append(f"no {phase} sweep from the outsider probe in the run")
    if status == "pass":
        _back_exposure(v, exp, keys, site=site, public=address, received=received, used=used)
    if status == "pass" and v.refused:
        v.kind = "verification_unattested"
        v.note = "a pass the probe's signatures do not back: kept in the trail, starts nothing"
        v.note_code = "unattested"
    elif status == "pass":
        v.note = "a pass backed by the probe's signatures: the 24 h wait starts now"
        v.note_code = "backed"
    else:
        v.note = "a failure: it blocks the option until a new verified pass"
        v.note_code = "failure"
        v.refused = []  # a failure is believed as declared: nothing to back
    v.detail = {"check": status, "evidence": str((fw.get("facts") or {}).get("evidence", "")),
                "public_address": public, "attested": v.attested, "declared": v.declared,
                "refused": v.refused, "exposure": v.exposure,
                "addresses": [a for a in figures.get("operator_addresses") or []
                              if isinstance(a, dict)]}
    return v

