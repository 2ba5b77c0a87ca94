"""``recette analyse FILE``: a capture we did not make (IPBX, router, SBC, mirror port), read
as the live checks would have judged it.

One job per module: :mod:`.capture` reads the file's records (pcap, pcapng) down to IP
(:mod:`.encap` peels link layers and tunnels),
:mod:`.streams` measures every RTP stream with the live checks' receiver statistics and hands
the rest, in the same pass, to :mod:`.sipread` (SIP over UDP and TCP on any port, IP
fragments, ICMP errors; strict then lenient reading, :mod:`.fields`), :mod:`.dialogs` groups
SIP into dialogs with their ladder and final state,
:mod:`.diagnose` matches streams to calls through the SDP and says what is wrong, and
:mod:`.output` writes the summary, the incident rows and the HTML annex.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from types import ModuleType

from harness.profile import Thresholds
from sip_checks.analyse.capture import CaptureError
from sip_checks.analyse.diagnose import Analysis, analyse
from sip_checks.analyse.dialogs import group
from sip_checks.analyse.sipread import SipReader
from sip_checks.analyse.streams import collect

__all__ = ["Analysis", "CaptureError", "main", "read"]


def read(path: Path, *, thresholds: Thresholds | None = None,
         sip_ports: Iterable[int] = ()) -> Analysis:
    """The capture at ``path`` analysed (raises :class:`CaptureError`, one line, on a file
    that is not a readable capture, holds no record, or holds neither SIP nor RTP);
    ``sip_ports`` are read as SIP besides 5060 and whatever starts with a SIP start line.
    ``Analysis.capture`` says whether the file was cut short and when its last record was."""
    sink = SipReader(sip_ports)
    streams = collect(path, sink)
    sink.close()
    info = sink.info
    if info.records == 0:
        raise CaptureError(f"{path}: empty capture: no packet records")
    result = analyse(group(sink.sips), streams, sink.icmps, thresholds, capture=info)
    result.findings += sink.findings()
    if not sink.sips and not result.others and not result.calls:
        # Never "nothing wrong found" on a file that shows nothing: say what it held.
        raise CaptureError(f"{path}: no SIP or RTP in {info.contents()}")
    return result


def main(path: Path, *, out: Path, lang: str, sheet: ModuleType,
         sip_ports: Iterable[int] = ()) -> tuple[Analysis, list[Path]]:
    """Analyse ``path`` and write the summary, ``incidents.csv`` and the HTML into ``out``."""
    from sip_checks.analyse.output import write

    result = read(path, sip_ports=sip_ports)
    return result, write(result, path, out, lang, sheet)
