"""SIP ladder diagrams from the wire log: the first thing an expert reads in a call trace."""

from __future__ import annotations

from collections.abc import Iterable

from sip_checks.toolkit.endpoint import WireRecord
from sip_checks.toolkit.message import SipParseError, parse

WIDTH = 44


def _label(data: bytes) -> str:
    try:
        msg = parse(data)
    except SipParseError as exc:
        return f"(garbage: {exc})"[:WIDTH - 6]
    if msg.is_response:
        cseq = msg.cseq
        return f"{msg.status} {msg.reason}"[:28] + (f" ({cseq[1]})" if cseq else "")
    if msg.method == "INVITE" and ";tag=" in (msg.get("To") or ""):
        return "re-INVITE"  # in a dialog already: the far end moves media or refreshes
    return msg.method or "?"


def render(records: Iterable[WireRecord], *, call_id: str | None = None) -> str:
    """A two-column ladder of ``records`` (optionally one Call-ID), times relative to the first.

    The local socket is on the left, each remote peer on the right of the arrow.
    """
    rows = []
    recs = [r for r in records if call_id is None or call_id.encode() in r.data]
    if not recs:
        return "(no SIP message)"
    t0 = recs[0].at
    local = f"{recs[0].local[0]}:{recs[0].local[1]}"
    rows.append(f"{'t (ms)':>9}  {local:<21}{'':{WIDTH}}remote")
    for r in recs:
        label = _label(r.data)
        pad = WIDTH - 4 - len(label)
        left, right = "─" * (pad // 2), "─" * (pad - pad // 2)
        arrow = f"──{left} {label} {right}─▶" if r.outgoing else f"◀─{left} {label} {right}──"
        note = f"  [{r.note}]" if r.note else ""
        rows.append(f"{(r.at - t0) * 1000:9.1f}  {'':21}{arrow}  {r.remote[0]}:{r.remote[1]}"
                    f"{note}")
    return "\n".join(rows)


def transcript(records: Iterable[WireRecord], *, call_id: str | None = None) -> str:
    """Every message in full, in order (the raw evidence behind the ladder)."""
    out = []
    recs = [r for r in records if call_id is None or call_id.encode() in r.data]
    t0 = recs[0].at if recs else 0.0
    for r in recs:
        arrow = "→" if r.outgoing else "←"
        note = f" [{r.note}]" if r.note else ""
        out.append(f"--- +{(r.at - t0) * 1000:.1f} ms {arrow} {r.remote[0]}:{r.remote[1]} "
                   f"({len(r.data)} bytes){note}")
        out.append(r.data.decode("utf-8", "replace").rstrip("\r\n"))
    return "\n".join(out)
