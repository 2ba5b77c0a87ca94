"""The site's side of the outsider probe's scan (``POST /scan``, :mod:`harness.probe.scan`):
ask, read the answer into typed rows, and refuse an answer the probe's own attestation does
not cover.

The probe scans the address the request came from, which is the site's public address only
when the agent reaches the probe through the site's internet link: the answer says which
address was scanned (``to``), and the check compares it with the registrar's view.

The attestation's signature is the console's to verify (it holds the probe's registered
public key, :mod:`harness.console.gatekeeper`); the agent checks what it can without the key:
that the signed text is a scan of this address, of these ports, and that its digest is the
digest of the results carried beside it. An answer whose attestation speaks of something else
is not evidence of anything: the check stops with an error rather than judge it.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

from harness.errors import CheckError
from harness.messages import msg
from harness.probe.client import ProbeClient, RateLimited
from harness.probe.scan import KIND_SCAN, results_digest
from sip_checks.probes.firewall import attestation_of

STATES = frozenset({"open", "closed", "filtered", "open|filtered"})
TIMEOUT_S = 1.5  # per exchange: a site on a slow link still answers a SYN within it
DEADLINE_S = 12.0


@dataclass(frozen=True)
class PortAnswer:
    """What one port of the site did for the outsider."""

    port: int
    transport: str  # "udp" or "tcp"
    state: str  # open, closed, filtered, open|filtered
    protocol: str | None  # sip, http, ssh, telnet, tftp, iax2, tls, or None (nothing said)
    tls: bool
    tls_subject: str | None
    summary: str  # the answer's first line (status line, banner, TFTP packet)
    server: str | None  # SIP Server/User-Agent, HTTP Server
    title: str | None  # an HTML page's <title>
    answer: str  # the answer's bytes as text, cut, password lines replaced by the probe
    redacted: int
    ms: float | None
    note: str
    complete: bool  # False: the probe's deadline cut it (what was seen stands, not the rest)

    @property
    def key(self) -> tuple[int, str]:
        return self.port, self.transport

    def line(self) -> str:
        """One evidence line: port, state, what spoke."""
        said = self.summary or ("(silent)" if self.state == "open" else "")
        extra = [x for x in (f"server {self.server}" if self.server else "",
                             f"title {self.title!r}" if self.title else "",
                             f"TLS subject {self.tls_subject}" if self.tls_subject else "",
                             self.note, "" if self.complete else "cut by the deadline")
                 if x]
        tail = f" ({'; '.join(extra)})" if extra else ""
        ms = f" {self.ms:.0f} ms" if self.ms is not None else ""
        return (f"{self.port:>5}/{self.transport} {self.state:<13} "
                f"{self.protocol or '-':<6} {said}{tail}{ms}").rstrip()


@dataclass(frozen=True)
class Scan:
    """One scan by the outsider probe: from where, of which address, what each port did."""

    phase: str  # "cold" or "warm"
    source: str
    to: str
    seconds: float
    ports: tuple[PortAnswer, ...]
    attestation: dict[str, str] | None

    def attested(self) -> str:
        status = (f"signed by probe key {self.attestation['key']}" if self.attestation
                  else "unsigned: the console cannot verify it")
        return f"{self.phase:<4} from outsider ({self.source}) to {self.to}: {status}"


def request(ports: list[tuple[int, str]], site: str | None,
            tftp_files: list[str] | None = None) -> dict[str, Any]:
    """The /scan request for these (port, transport) pairs: no address in it, by design."""
    doc: dict[str, Any] = {"ports": [[p, t] for p, t in ports], "timeout_s": TIMEOUT_S,
                           "deadline_s": DEADLINE_S}
    if site is not None:
        doc["site"] = site
    if tftp_files:
        doc["tftp_files"] = tftp_files
    return doc


def scan(client: ProbeClient, ports: list[tuple[int, str]], phase: str,
         site: str | None = None, tftp_files: list[str] | None = None) -> Scan:
    """One scan of the site's public address by ``client``'s probe (a CheckError when the
    probe cannot, or its answer cannot be trusted to be about these ports)."""
    req = request(ports, site, tftp_files)
    try:
        ans = client.post("/scan", req)
    except RateLimited as exc:  # one scan per requester every few seconds: wait our turn
        time.sleep(min(exc.retry_after, 10.0))
        ans = client.post("/scan", req)
    return read(ans, ports, phase)


def read(ans: dict[str, Any], ports: list[tuple[int, str]], phase: str) -> Scan:
    """The probe's answer as a :class:`Scan`, once its shape and its attestation agree with
    the request; a one-line CheckError saying what does not."""
    results = ans.get("results")
    to, source = ans.get("to"), ans.get("from")
    if not (isinstance(results, list) and isinstance(to, str) and isinstance(source, str)):
        raise CheckError(msg("EXPO_BAD_ANSWER", detail="no results, from or to"))
    try:
        rows = tuple(_row(r) for r in results)
    except (KeyError, TypeError, ValueError) as exc:
        raise CheckError(msg("EXPO_BAD_ANSWER", detail=str(exc)[:200])) from None
    asked = {(p, t) for p, t in ports}
    got = {r.key for r in rows}
    if got != asked:
        missing = sorted(asked - got)[:5]
        raise CheckError(msg("EXPO_BAD_ANSWER", detail="ports answered differ from those asked"
                             + (f" (missing {', '.join(f'{p}/{t}' for p, t in missing)})"
                                if missing else "")))
    att = attestation_of(ans)
    if ans.get("attestation") is not None and att is None:
        raise CheckError(msg("EXPO_ATTESTATION", detail="malformed attestation"))
    if att is not None:
        problem = _attestation_problem(att, results, to)
        if problem:
            raise CheckError(msg("EXPO_ATTESTATION", detail=problem))
    seconds = ans.get("seconds")
    return Scan(phase, source, to, float(seconds) if isinstance(seconds, int | float) else 0.0,
                rows, att)


def _attestation_problem(att: dict[str, str], results: list[Any], to: str) -> str | None:
    """What in the signed text disagrees with the answer it came with (None: nothing)."""
    try:
        doc = json.loads(att["doc"])
    except ValueError:
        return "its text is not JSON"
    if not isinstance(doc, dict) or doc.get("kind") != KIND_SCAN:
        return "it does not attest a scan"
    if doc.get("target") != to:
        return f"it attests a scan of {str(doc.get('target'))[:50]}, not of {to}"
    if doc.get("results") != results_digest(results):
        return "its digest is not the digest of the results it came with"
    if doc.get("ports") != [f"{r['port']}/{r['transport']}" for r in results]:
        return "it names other ports than those asked"
    if doc.get("probe") != att.get("key"):
        return "it names another probe key than the one it is signed with"
    return None


def _text(value: object, limit: int = 20000) -> str:
    if not isinstance(value, str):
        raise TypeError("a text field is not a string")
    return value[:limit]


def _opt(value: object) -> str | None:
    return None if value is None else _text(value, 300)


def _row(r: object) -> PortAnswer:
    if not isinstance(r, dict):
        raise TypeError("a result is not an object")
    port, transport, state = r["port"], r["transport"], r["state"]
    if isinstance(port, bool) or not isinstance(port, int) or not 0 < port < 65536:
        raise ValueError("a port is not a port number")
    if transport not in ("udp", "tcp") or state not in STATES:
        raise ValueError(f"port {port}: unknown transport or state")
    ms = r.get("ms")
    return PortAnswer(
        port=port, transport=transport, state=state, protocol=_opt(r.get("protocol")),
        tls=r.get("tls") is True, tls_subject=_opt(r.get("tls_subject")),
        summary=_text(r.get("summary", ""), 300), server=_opt(r.get("server")),
        title=_opt(r.get("title")), answer=_text(r.get("answer", "")),
        redacted=int(r.get("redacted") or 0),
        ms=float(ms) if isinstance(ms, int | float) and not isinstance(ms, bool) else None,
        note=_text(r.get("note", ""), 300), complete=r.get("complete") is True)
