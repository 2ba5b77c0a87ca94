"""The analysis's RTP figures agree with Wireshark's own RTP stream analysis
(``tshark -q -z rtp,streams``) on the same capture: loss exactly, mean and max jitter within
5 %. :func:`rtp_streams` is shared with the lab test, which runs it on lab captures."""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from sip_checks.analyse import read
from sip_checks.analyse.streams import Stream

DATA = Path(__file__).resolve().parents[1] / "data" / "captures"


@dataclass(frozen=True)
class TsharkStream:
    src: tuple[str, int]
    dst: tuple[str, int]
    ssrc: int
    packets: int
    lost: int
    mean_jitter_ms: float
    max_jitter_ms: float


def rtp_streams(path: Path) -> list[TsharkStream]:
    """Wireshark's RTP stream table of ``path`` (RTP found by heuristics and from SDP)."""
    out = subprocess.run(["tshark", "-n", "-q", "-r", str(path), "-o", "rtp.heuristic_rtp:TRUE",
                          "-z", "rtp,streams"], capture_output=True, text=True, check=True).stdout
    rows = []
    for line in out.splitlines():
        cols = line.split()
        if len(cols) < 17 or not cols[6].startswith("0x"):
            continue
        # start end src sport dst dport ssrc payload... pkts lost (pct) 6 deltas/jitters [X]
        tail = cols[-7:] if cols[-1] == "X" else cols[-6:]
        lost_at = cols.index(next(c for c in cols if c.startswith("(") and c.endswith("%)")))
        rows.append(TsharkStream((cols[2], int(cols[3])), (cols[4], int(cols[5])),
                                 int(cols[6], 16), int(cols[lost_at - 2]),
                                 int(cols[lost_at - 1]), float(tail[4]), float(tail[5])))
    return rows


def agree(ours: list[Stream], theirs: list[TsharkStream]) -> int:
    """Assert every stream tshark found agrees with ours; the number compared.

    Jitter is compared on streams without RFC 4733 events: Wireshark feeds an event's
    packets (all stamped with the event's start) to its jitter, which then jumps by the
    event's length; the live checks, and so the analysis, leave them out of jitter."""
    by_key = {(s.src, s.dst, s.ssrc): s for s in ours}
    for t in theirs:
        s = by_key[(t.src, t.dst, t.ssrc)]
        assert s.stats.received == t.packets, (s.label, s.stats.received, t.packets)
        assert s.stats.lost == t.lost, (s.label, s.stats.lost, t.lost)
        if t.max_jitter_ms > 0.5 and not s.events:
            assert s.stats.jitter_max_ms == pytest.approx(t.max_jitter_ms, rel=0.05)
            assert s.stats.jitter_ms == pytest.approx(t.mean_jitter_ms, rel=0.05)
    return len(theirs)


def streams_of(path: Path) -> list[Stream]:
    a = read(path)
    return [cs.stream for c in a.calls for cs in c.streams] + [s for s, _ in a.others]


@pytest.mark.skipif(shutil.which("tshark") is None, reason="needs tshark")
@pytest.mark.parametrize("case", ["loss_jitter", "one_way", "alg_both_sides"])
def test_figures_agree_with_wireshark(case: str) -> None:
    (path,) = [p for p in (DATA / case).iterdir() if p.name.startswith("capture.")]
    assert agree(streams_of(path), rtp_streams(path)) >= 1
