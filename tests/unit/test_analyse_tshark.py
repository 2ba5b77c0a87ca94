"""The analysis's RTP figures agree with Wireshark's own RTP stream analysis
(``tshark -q -z rtp,streams``) on the same capture: loss exactly, mean and max jitter within
5 %. :func:`rtp_streams` is shared with the lab test, which runs it on lab captures."""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from sip_checks.analyse import Analysis, read
from sip_checks.analyse.streams import Stream

DATA = Path(__file__).resolve().parents[1] / "data" / "captures"


_ROW = re.compile(
    r"^\s*[\d.]+\s+[\d.]+\s+(?P<src>\S+)\s+(?P<sport>\d+)\s+(?P<dst>\S+)\s+(?P<dport>\d+)\s+"
    r"0x(?P<ssrc>[0-9A-Fa-f]{1,8})\s+(?P<payload>.*?)\s+(?P<packets>\d+)\s+(?P<lost>-?\d+)\s+"
    r"\(-?[\d.]+%\)\s+(?P<min_delta>-?[\d.]+)\s+(?P<mean_delta>-?[\d.]+)\s+"
    r"(?P<max_delta>-?[\d.]+)\s+(?P<min_jitter>-?[\d.]+)\s+(?P<mean_jitter>-?[\d.]+)\s+"
    r"(?P<max_jitter>-?[\d.]+)\s*X?\s*$")

Key = tuple[tuple[str, int], tuple[str, int], int]


@dataclass(frozen=True)
class Row:
    """One line of ``tshark -z rtp,streams``."""

    src: tuple[str, int]
    dst: tuple[str, int]
    ssrc: int
    payload: str
    packets: int
    lost: int
    max_delta_ms: float
    min_jitter_ms: float  # -1: tshark knew no clock rate for the payload type
    mean_jitter_ms: float
    max_jitter_ms: float

    @property
    def key(self) -> Key:
        return self.src, self.dst, self.ssrc

    def id(self, case: str) -> str:
        return (f"{case}:{self.src[0]}:{self.src[1]}>{self.dst[0]}:{self.dst[1]}:"
                f"{self.ssrc:08X}")


def parse_rtp_streams(text: str) -> list[Row]:
    """The rows of a ``tshark -q -z rtp,streams`` table (the lines that are not streams are
    its header and footer)."""
    rows = []
    for line in text.splitlines():
        m = _ROW.match(line)
        if m:
            rows.append(Row((m["src"], int(m["sport"])), (m["dst"], int(m["dport"])),
                            int(m["ssrc"], 16), m["payload"], int(m["packets"]),
                            int(m["lost"]), float(m["max_delta"]), float(m["min_jitter"]),
                            float(m["mean_jitter"]), float(m["max_jitter"])))
    return rows


def rtp_streams(path: Path) -> list[Row]:
    """Wireshark's RTP stream table of ``path`` (RTP found by heuristics and from SDP)."""
    out = subprocess.run(["tshark", "-n", "-q", "-r", str(path), "-o", "rtp.heuristic_rtp:TRUE",
                          "-z", "rtp,streams"], capture_output=True, text=True, check=True).stdout
    return parse_rtp_streams(out)


def agree(ours: list[Stream], theirs: list[Row]) -> int:
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


def streams_in(a: Analysis) -> list[Stream]:
    """Every RTP stream of an analysis: its calls' and the unannounced ones."""
    return [cs.stream for c in a.calls for cs in c.streams] + [s for s, _ in a.others]


def streams_of(path: Path) -> list[Stream]:
    return streams_in(read(path))


@pytest.mark.skipif(shutil.which("tshark") is None, reason="needs tshark")
@pytest.mark.parametrize("case", ["loss_jitter", "one_way", "alg_both_sides"])
def test_figures_agree_with_wireshark(case: str) -> None:
    (path,) = [p for p in (DATA / case).iterdir() if p.name.startswith("capture.")]
    assert agree(streams_of(path), rtp_streams(path)) >= 1
