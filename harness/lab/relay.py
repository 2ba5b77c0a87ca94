"""The field lab's media relay: rtpengine anchoring every call's media, as a carrier's SBC does.

A real operator never lets a site's RTP go straight to the far end: its SBC rewrites the SDP
so both directions flow through its own media address, which is then the address the site's
firewall sees and must admit, and the source a check sees its RTP come from. The default lab
has no such relay, so checks proven on it could assume "media comes from the far end's own
address" or "the far end echoes what we send"; the field lab (``--operator field``) puts
Debian's rtpengine between Kamailio and every media endpoint so they cannot.

rtpengine runs in userspace only (``--table=-1``: no kernel forwarding module here), in the
operator's namespace, with its ng control socket on that namespace's loopback for Kamailio's
``rtpengine.so``. It is started in the foreground with a PID file like the lab's other
daemons; ``recette lab down`` kills it with everything else in the namespace, and restarting
Kamailio (another digest algorithm, an outage) leaves it running.
"""

from __future__ import annotations

import secrets
import shutil
import socket
import subprocess
import time
from pathlib import Path

from harness import netns
from harness.errors import LabError
from harness.lab.procs import pid_alive
from harness.lab.state import lab_dir
from harness.lab.topology import ns

NG_ADDR = ("127.0.0.1", 2223)
PORTS = (30000, 39999)  # the relay's own RTP ports, clear of the far ends' (6000, 6100)

# What Kamailio asks of rtpengine for every offer and answer:
# - SIP-source-address: send media to the address the SIP message came from (a NATed site's
#   public address, whatever private address its SDP says) and the port its SDP gives, so the
#   media test crosses the site's port-forward as a carrier's media would;
# - replace-origin, replace-session-connection: the SDP each side gets names only the relay
#   (o= and every c=), never the other side's address;
# - ICE=remove: no candidates for an address the other side cannot reach.
# Learning stays rtpengine's default (symmetric, "delayed"): once RTP arrives from a site it is
# answered where it came from, as an SBC's latching does behind NAT.
FLAGS = "SIP-source-address replace-origin replace-session-connection ICE=remove"


def pidfile(prefix: str) -> Path:
    return lab_dir(prefix) / "rtpengine.pid"


def command(media_ip: str, prefix: str) -> list[str]:
    """rtpengine's command line: userspace, in the foreground, logging to stderr."""
    return [shutil.which("rtpengine") or "/usr/bin/rtpengine", "--config-file=none",
            f"--interface={media_ip}", f"--listen-ng={NG_ADDR[0]}:{NG_ADDR[1]}",
            "--table=-1", f"--port-min={PORTS[0]}", f"--port-max={PORTS[1]}",
            "--foreground", "--log-stderr", "--no-log-timestamps", "--log-level=6",
            f"--pidfile={pidfile(prefix)}"]


def start(prefix: str, media_ip: str, timeout: float = 10.0) -> None:
    """Start rtpengine in ``op`` with its media on ``media_ip``; wait until it answers ping."""
    log_path = lab_dir(prefix) / "rtpengine.log"
    log = open(log_path, "ab")  # noqa: SIM115 - handed to the daemon
    with log:
        proc = netns.popen(ns(prefix, "op"), command(media_ip, prefix), stdout=log,
                           stderr=log, stdin=subprocess.DEVNULL)
    deadline = time.monotonic() + timeout
    while not ping(prefix):
        if proc.poll() is not None or time.monotonic() > deadline:
            raise LabError(f"rtpengine did not start (exit {proc.poll()}): see {log_path}")
        time.sleep(0.05)


def ping(prefix: str) -> bool:
    """True when rtpengine answers an ng ``ping`` on its control socket."""
    with netns.inside(ns(prefix, "op")):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    with s:
        s.settimeout(0.2)
        cookie = secrets.token_hex(4).encode()
        try:
            s.sendto(cookie + b" d7:command4:pinge", NG_ADDR)
            return s.recv(256) == cookie + b" d6:result4:ponge"
        except OSError:
            return False


def running(prefix: str) -> bool:
    return pid_alive(pidfile(prefix))

