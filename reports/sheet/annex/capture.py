"""Annex section: the run's packet capture, how to open it, and each check's display filter.

Reads ``RunResults.capture`` (:class:`~harness.results.CaptureInfo`: the files the runner
kept, or why there are none) and each check's ``figures.sip_dialogs``
(:class:`~harness.results.SipDialog`, the Call-IDs ``record_sip`` found in its SIP). An
expert who doubts a verdict opens ``capture.pcapng`` in Wireshark and pastes the check's
filter: the frames behind the ladder, byte for byte, and the RTP the SDP set up. Nothing is
shown for a document written before captures existed.
"""

from __future__ import annotations

from harness.capture import display_filter
from harness.results import CaptureInfo, CheckResult
from reports.sheet.blocks import e, kv, mono, section, table
from reports.sheet.page import Page


def files(page: Page, cap: CaptureInfo) -> str:
    """One row per file: its name, whose side, where it was taken, size, frames, drops."""
    rows = [[mono(f.name), page.label(f"cap_side_{f.side}"), mono(f.where),
             e(f"{f.size / 1e6:.1f}"), e("–" if f.packets is None else f.packets),
             e("–" if f.dropped is None else f.dropped)] for f in cap.files]
    head = [page.label(k) for k in ("cap_file", "cap_side", "cap_where", "cap_size",
                                    "cap_frames", "cap_dropped")]
    return table(head, rows)


def how_to(page: Page, cap: CaptureInfo) -> str:
    """The steps to see the calls in Wireshark, and the command-line equivalent."""
    steps = [page.label("cap_open"), page.label("cap_calls"), page.label("cap_streams"),
             page.label("cap_filter_use")]
    if any(f.side == "operator" for f in cap.files):
        steps.append(page.label("cap_compare"))
    listed = "".join(f"<li>{s}</li>" for s in steps)
    cli = "tshark -r capture.pcapng -q -z sip,stat -z rtp,streams"
    return (f"<ol>{listed}</ol>"
            + kv([(page.label("cap_bpf"), mono(cap.filter)),
                  (page.label("cap_cli"), mono(cli))]))


def dialogs(page: Page, checks: list[CheckResult]) -> str:
    """Per check: its dialogs' filter (all of them in one, ready to paste), one row per
    Call-ID with its first method."""
    rows = []
    for c in checks:
        found = c.figures.sip_dialogs
        if not found:
            continue
        whole = display_filter(d.call_id for d in found)
        rows.append([f"{mono(c.id)}<br>{e(c.title(page.lang))}",
                     "<br>".join(f"{e(d.method or '–')} {mono(d.call_id)}" for d in found),
                     f"<span class='mono pre-wrap'>{e(whole)}</span>"])
    if not rows:
        return ""
    head = [page.label(k) for k in ("check", "cap_dialogs", "cap_display")]
    return f"<h4>{page.label('cap_per_check')}</h4>{table(head, rows)}"


def render(page: Page) -> str:
    cap = page.results.capture
    if cap is None:
        return ""
    if cap.state == "off":
        body = f"<p>{page.label('cap_off')}</p>"
    elif cap.state == "unavailable":
        body = f"<p>{page.label('cap_unavailable')}{page.label('colon')}{mono(cap.detail)}</p>"
    else:
        body = files(page, cap) + how_to(page, cap) + dialogs(page, page.results.checks)
    return section(page.t["capture"], body)
