"""``recette analyse FILE``: a capture we did not make (IPBX, router, SBC, mirror port), read
as the live checks would have judged it.

One job per module: :mod:`.capture` reads the file's records (pcap, pcapng) down to IP
(:mod:`.encap` peels link layers and tunnels),
:mod:`.streams` measures every RTP stream with the live checks' receiver statistics and sets
the rest aside, :mod:`.fields` has tshark decode that rest (SIP over UDP and TCP, ICMP) in one
field pass, :mod:`.dialogs` groups SIP into dialogs with their ladder and final state,
:mod:`.diagnose` matches streams to calls through the SDP and says what is wrong, and
:mod:`.output` writes the summary, the incident rows and the HTML annex.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from types import ModuleType

from harness.profile import Thresholds
from sip_checks.analyse.capture import CaptureError, RawIpWriter
from sip_checks.analyse.diagnose import Analysis, analyse
from sip_checks.analyse.dialogs import group
from sip_checks.analyse.fields import run_tshark
from sip_checks.analyse.streams import collect

__all__ = ["Analysis", "CaptureError", "main", "read"]


def read(path: Path, *, thresholds: Thresholds | None = None) -> Analysis:
    """The capture at ``path`` analysed (raises :class:`CaptureError`, one line, on a file
    that is not a readable capture, holds no record, or holds neither SIP nor RTP).
    ``Analysis.capture`` says whether the file was cut short and when its last record was."""
    with tempfile.TemporaryDirectory(prefix="recette-analyse-") as tmp:
        rest = Path(tmp) / "not-rtp.pcap"
        with rest.open("wb") as f:
            sink = RawIpWriter(f)
            streams = collect(path, sink)
        info = sink.info
        if info.records == 0:
            raise CaptureError(f"{path}: empty capture: no packet records")
        sips, icmps = run_tshark(rest, sink.numbers, sink.ifaces)
    result = analyse(group(sips), streams, icmps, thresholds, capture=info)
    if not sips and not result.others:
        # Never "nothing wrong found" on a file that shows nothing: say what it held.
        raise CaptureError(f"{path}: no SIP or RTP in {info.contents()}")
    return result


def main(path: Path, *, out: Path, lang: str, sheet: ModuleType) -> tuple[Analysis, list[Path]]:
    """Analyse ``path`` and write the summary, ``incidents.csv`` and the HTML into ``out``."""
    from sip_checks.analyse.output import write

    result = read(path)
    return result, write(result, path, out, lang, sheet)
