"""Packet capture of a run: ``capture.pcapng`` of the agent's SIP and RTP, beside the report.

Why: when a call fails, the operator's support desk and every VoIP engineer ask for the
capture first. The checks keep SIP text and RTP figures; the capture is what Wireshark opens
with the calls decoded (Telephony → VoIP Calls, RTP streams found from the SDP), and what a
later ``recette analyse`` can read again.

dumpcap (or tshark, which runs it) is started before the first check and stopped after the
last, in the agent's network namespace in the lab (``profile.lab.agent_netns``) or on this
host otherwise. The capture filter keeps UDP SIP (the site's port, the operator server's) and
the RTP range the router opens, nothing else: the router's SSH and the probes' control HTTP
are TCP, and the firewall sweeps' datagrams (thousands per sweep, one per port) are dropped in
the kernel by their payload, which always starts with :data:`SWEEP_PREFIX`, so the call
capture stays small. In the lab a second dumpcap in the operator's namespace keeps what
crossed the operator's edge (``capture-operator.pcapng``): what left the site against what
arrived is the best ALG/NAT evidence there is.

A missing or failing dumpcap costs the capture only, with one line saying so; the checks
run either way. SIP digest authentication never sends the password, so the capture holds
none (the lab test greps its bytes for every profile secret).
"""

from __future__ import annotations

import contextlib
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from harness import netns
from harness.probe.server import SWEEP_MAGIC
from harness.profile import Profile
from harness.results import CaptureFile, CaptureInfo

CAPTURE_FILE = "capture.pcapng"
OPERATOR_FILE = "capture-operator.pcapng"
SITE_SIP_PORT = 5060
# The RTP range the operator's firewall rule opens (sip_checks.toolkit.stream.RTP_PORTS, which
# the core may not import; tests/unit/test_capture.py holds them equal). Every media socket
# of the checks, hairpin halves included, takes its port from it.
RTP_PORTS = (10000, 20000)
# Every firewall-sweep datagram starts with this: the probes' ``recette-sweep:<token>`` and
# the site's warm-up ``recette-warm`` (sip_checks.probes.firewall). No SIP message (a method
# or ``SIP/2.0``) and no RTP packet (version 2: first byte 0x80-0xBF) does.
SWEEP_PREFIX = b"recette-"
assert SWEEP_MAGIC.startswith(SWEEP_PREFIX)
READY_S = 5.0  # how long dumpcap may take to open its interfaces
STOP_S = 10.0  # how long it may take to write its last blocks after SIGINT


def payload_starts_with(prefix: bytes) -> str:
    """A BPF expression true when the UDP payload begins with ``prefix`` (IPv4: the
    ``udp[]`` accessor), compared four bytes at a time, then two, then one."""
    tests = []
    at = 0
    for size in (4, 2, 1):
        while len(prefix) - at >= size:
            chunk = prefix[at:at + size]
            tests.append(f"udp[{8 + at}:{size}] = 0x{chunk.hex()}")
            at += size
    return " and ".join(tests) if tests else "udp"


# The second and later fragments of a UDP datagram carry no port (a SIP message above the
# MTU, as the ALG check sends, arrives in several): kept whole, or Wireshark cannot
# reassemble the message. Sweep datagrams are never fragmented.
LATER_FRAGMENTS = "(ip proto 17 and ip[6:2] & 0x1fff != 0)"


def agent_filter(sip_ports: Iterable[int], rtp: tuple[int, int] = RTP_PORTS) -> str:
    """The agent side's capture filter: UDP on the SIP ports and the RTP range (and the
    fragments that follow), without the firewall sweeps' datagrams."""
    ports = " or ".join(f"port {p}" for p in sorted(set(sip_ports)))
    return (f"(udp and ({ports} or portrange {rtp[0]}-{rtp[1]}) "
            f"and not ({payload_starts_with(SWEEP_PREFIX)})) or {LATER_FRAGMENTS}")


def operator_filter() -> str:
    """The operator side's: all UDP that crossed its edge (the site's public ports are
    whatever the NAT made of them), without the sweeps."""
    return f"(udp and not ({payload_starts_with(SWEEP_PREFIX)})) or {LATER_FRAGMENTS}"


def profile_filter(profile: Profile) -> str:
    """The agent filter for a site: its SIP port and the operator server's."""
    return agent_filter({SITE_SIP_PORT, profile.operator.sip_server.port})


def display_string(value: str) -> str:
    """``value`` as a quoted Wireshark display-filter string (a Call-ID comes off the wire:
    a quote or backslash in it must not end the string)."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def display_filter(call_ids: Iterable[str]) -> str:
    """The display filter that shows the SIP of these Call-IDs (empty: none)."""
    return " || ".join(f"sip.Call-ID == {display_string(c)}" for c in dict.fromkeys(call_ids))


def tool() -> str | None:
    """dumpcap, else tshark (which accepts the same capture options), else None."""
    return shutil.which("dumpcap") or shutil.which("tshark")


def interfaces(ns: str | None) -> list[str]:
    """The interfaces of a namespace except loopback: its edge, without the processes'
    talk among themselves (the operator's Kamailio, far end and relay on ``lo``)."""
    out = netns.run(None, ["ip", *(["-n", ns] if ns else []), "-o", "link", "show"],
                    check=False).stdout
    names = [m.group(1) for m in re.finditer(r"^\d+:\s+([^:@\s]+)", out, re.MULTILINE)]
    return [n for n in names if n != "lo"]


_CAPTURED = re.compile(r"Packets captured:\s*(\d+)")
_DROPPED = re.compile(r"Packets received/dropped on interface .*?:\s*\d+/(\d+)")


@dataclass
class Dumpcap:
    """One running dumpcap writing ``path`` (its messages go to ``log``)."""

    proc: subprocess.Popen[bytes]
    path: Path
    log: Path
    side: str
    where: str

    @classmethod
    def start(cls, exe: str, ns: str | None, path: Path, ifaces: list[str], bpf: str,
              side: str) -> Dumpcap:
        """Start and wait until it captures (nothing of the first check may be missed); a
        ``RuntimeError`` with dumpcap's own words when it cannot. Ready is when the file
        exists: dumpcap writes it once its interfaces are open with the filter set (its
        "Capturing on" line comes before, even for an interface that does not exist)."""
        log = path.with_name(f".{path.name}.log")
        path.unlink(missing_ok=True)  # a folder used again: the old file is no sign of life
        argv = [exe, "-q", "-f", bpf, *[a for i in ifaces for a in ("-i", i)], "-w", str(path)]
        with open(log, "wb") as err:
            proc = netns.popen(ns, argv, stdin=subprocess.DEVNULL,
                               stdout=subprocess.DEVNULL, stderr=err)
        cap = cls(proc, path, log, side, ns or "host")
        deadline = time.monotonic() + READY_S
        while not (path.exists() and path.stat().st_size > 0) or proc.poll() is not None:
            if proc.poll() is not None or time.monotonic() > deadline:
                cap._end()
                words = [w.strip() for w in cap._said().splitlines()
                         if w.strip() and not w.startswith("Capturing on")]
                log.unlink(missing_ok=True)
                path.unlink(missing_ok=True)
                raise RuntimeError(" ".join(words) or f"{exe} did not start")
            time.sleep(0.02)
        return cap

    def _said(self) -> str:
        try:
            return self.log.read_text(errors="replace")
        except OSError:
            return ""

    def _end(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)  # dumpcap writes its last blocks and exits
            try:
                self.proc.wait(STOP_S)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def stop(self) -> CaptureFile | None:
        """Stop it; the file's description, or None when it wrote nothing."""
        self._end()
        said = self._said()
        self.log.unlink(missing_ok=True)
        if not self.path.exists():
            return None
        captured = _CAPTURED.search(said)
        dropped = [int(d) for d in _DROPPED.findall(said)]
        return CaptureFile(name=self.path.name, side="operator" if self.side == "operator"
                           else "agent", where=self.where, size=self.path.stat().st_size,
                           packets=int(captured.group(1)) if captured else None,
                           dropped=sum(dropped) if dropped else None)


@dataclass
class RunCapture:
    """The captures of one run (none when off or unavailable, with ``info`` saying so)."""

    info: CaptureInfo
    running: list[Dumpcap] = field(default_factory=list)

    @classmethod
    def start(cls, profile: Profile, out: Path, *, enabled: bool = True) -> RunCapture:
        """Start the agent's capture (and the operator's in the lab); never raises: a
        missing or failing dumpcap is one line on stderr and a run without capture."""
        bpf = profile_filter(profile)
        if not enabled:
            return cls(CaptureInfo(state="off"))
        exe = tool()
        if exe is None:
            return cls._unavailable("neither dumpcap nor tshark is installed "
                                    "(Debian: apt install tshark)")
        agent_ns = profile.lab.agent_netns if profile.lab is not None else None
        run = cls(CaptureInfo(state="captured", filter=bpf))
        try:
            run.running.append(Dumpcap.start(exe, agent_ns, (out / CAPTURE_FILE).resolve(),
                                             ["any"], bpf, "agent"))
        except (RuntimeError, OSError) as exc:
            return cls._unavailable(f"{Path(exe).name}: {exc}")
        op_ns = profile.lab.namespaces.get("op") if profile.lab is not None else None
        if op_ns is not None and netns.exists(op_ns):
            try:
                run.running.append(Dumpcap.start(exe, op_ns, (out / OPERATOR_FILE).resolve(),
                                                 interfaces(op_ns), operator_filter(),
                                                 "operator"))
            except (RuntimeError, OSError) as exc:
                print(f"recette: no operator-side capture: {Path(exe).name}: {exc}",
                      file=sys.stderr)
        return run

    @classmethod
    def _unavailable(cls, why: str) -> RunCapture:
        print(f"recette: no capture: {why}; the checks run without it", file=sys.stderr)
        return cls(CaptureInfo(state="unavailable", detail=why))

    def stop(self) -> CaptureInfo:
        """Stop every dumpcap (idempotent); the run's capture as results.json says it."""
        files = []
        for cap in self.running:
            with contextlib.suppress(OSError):
                got = cap.stop()
                if got is not None:
                    files.append(got)
        self.running = []
        if self.info.state == "captured":
            self.info.files = files or self.info.files
            if not self.info.files:
                self.info.state = "unavailable"
                self.info.detail = "dumpcap wrote no file"
        return self.info
