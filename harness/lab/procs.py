"""Process and socket helpers shared by the lab's parts: run a command, see a daemon come up,
find and kill what runs in a namespace.

Every part of the lab starts daemons inside namespaces; each must know when its daemon is
ready (its port bound or listening) and teardown must remove them for good (SIGTERM, then
SIGKILL whatever lingers, a zombie counting as gone). Those few helpers live here once so the
router, the operator side and teardown do not each grow their own.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from harness import netns
from harness.errors import LabError


def sh(argv: list[str], *, ns: str | None = None, input: str | None = None,
       timeout: float = 30) -> str:
    try:
        return netns.run(ns, argv, input=input, timeout=timeout).stdout
    except subprocess.CalledProcessError as exc:
        where = f" in {ns}" if ns else ""
        lines = (exc.stderr or exc.stdout or "").strip().splitlines()
        errors = [ln for ln in lines if ln.lower().startswith("error")]
        detail = (errors or lines or [str(exc.returncode)])[0]
        raise LabError(f"`{' '.join(argv)}`{where} failed: {detail}") from None


def udp_port_taken(ns: str, ip: str, port: int) -> bool:
    with netns.inside(ns):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    with s:
        try:
            s.bind((ip, port))
        except OSError:
            return True
    return False


def udp_bound(ns: str, ip: str, port: int) -> bool:
    """True when a socket in ``ns`` is bound to UDP ``ip:port``, read from the namespace's
    ``/proc/net/udp`` (unlike :func:`udp_port_taken`, no test bind a starting daemon could
    collide with)."""
    raw = socket.inet_aton(ip)  # the kernel prints the address as a native-endian word
    want = f"{(raw[::-1] if sys.byteorder == 'little' else raw).hex().upper()}:{port:04X}"
    with netns.inside(ns), open("/proc/thread-self/net/udp") as f:
        rows = f.read().splitlines()[1:]
    return any(row.split()[1] == want for row in rows if len(row.split()) > 1)


def read_pid(pidfile: Path) -> int | None:
    try:
        return int(pidfile.read_text().strip())
    except (FileNotFoundError, ValueError):
        return None


def tcp_listening(ns: str, ip: str, port: int) -> bool:
    with netns.inside(ns):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    with s:
        s.settimeout(0.2)
        return s.connect_ex((ip, port)) == 0


def pid_alive(pidfile: Path) -> bool:
    pid = read_pid(pidfile)
    if pid is None:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def ns_pids(ns: str) -> list[int]:
    if not netns.exists(ns):
        return []
    out = netns.run(None, ["ip", "netns", "pids", ns], check=False).stdout
    return [int(p) for p in out.split() if p.isdigit()]


def kill_all(pids: list[int], grace: float = 2.0) -> None:
    """SIGTERM every pid at once, SIGKILL whatever is still there after ``grace`` seconds."""
    alive = []
    for pid in pids:
        try:
            os.kill(pid, signal.SIGTERM)
            alive.append(pid)
        except ProcessLookupError:
            pass
    deadline = time.monotonic() + grace
    while alive and time.monotonic() < deadline:
        time.sleep(0.01)
        alive = [p for p in alive if exists(p)]
    for pid in alive:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


def exists(pid: int) -> bool:
    """True while ``pid`` is a live (non-zombie) process."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return False


def options_ping(namespace: str, src: str, dst: str, port: int = 5060) -> bool:
    """An OPTIONS from ``src`` (in ``namespace``) to ``dst``:``port`` got 200 within 0.2 s:
    whether a lab SIP server (the operator's Kamailio, the site's IPBX) is up and answering."""
    with netns.inside(namespace):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    with s:
        s.settimeout(0.2)
        s.bind((src, 0))
        local = s.getsockname()[1]
        msg = (
            f"OPTIONS sip:{dst} SIP/2.0\r\n"
            f"Via: SIP/2.0/UDP {src}:{local};branch=z9hG4bK{secrets.token_hex(6)}\r\n"
            f"From: <sip:ping@{src}>;tag=1\r\nTo: <sip:{dst}>\r\n"
            f"Call-ID: {secrets.token_hex(8)}\r\nCSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\n"
            "Content-Length: 0\r\n\r\n"
        )
        try:
            s.sendto(msg.encode(), (dst, port))
            return s.recv(4096).startswith(b"SIP/2.0 200")
        except OSError:
            time.sleep(0.05)
            return False


def run_kamailio(namespace: str, cfg: Path, text: str, *, pidfile: Path, log: Path,
                 memory: tuple[int, int], ping: tuple[str, str, int], timeout: float,
                 name: str) -> None:
    """Write ``text`` to ``cfg`` (0600: it holds passwords), have Kamailio check it, start
    it as a daemon in ``namespace`` (``memory``: its shared and private MB) and wait until
    an OPTIONS from ``ping``'s source to its address and port gets 200. The lab's two
    Kamailios (the operator's, the site's IPBX) start this way; ``name`` says which in the
    one-line errors, which point at ``log``."""
    cfg.write_text(text)
    cfg.chmod(0o600)
    check = netns.run(None, ["kamailio", "-c", "-f", str(cfg)], check=False)
    if check.returncode != 0:
        lines = (check.stderr or "").strip().splitlines()
        why = [ln.split(": ", 2)[-1] for ln in lines if "CRITICAL" in ln or "ERROR" in ln]
        raise LabError(f"kamailio rejected {cfg}: {' | '.join(why[:2] or lines[-2:])}")
    out = open(log, "ab")  # noqa: SIM115 - handed to the daemon
    with out:
        rc = netns.popen(
            namespace,
            ["kamailio", "-f", str(cfg), "-P", str(pidfile), "-w", str(cfg.parent),
             "-m", str(memory[0]), "-M", str(memory[1])],
            stdout=out, stderr=out, stdin=subprocess.DEVNULL,
        ).wait(timeout)
    if rc != 0:
        raise LabError(f"{name} exited with {rc}: see {log}")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if options_ping(namespace, *ping):
            return
    raise LabError(f"{name} did not answer within {timeout:.0f} s: see {log}")
