"""Receive buffers large enough for a trunk's burst of signalling.

Why: the kernel's default UDP receive buffer (``net.core.rmem_default``, 208 KiB here) holds
a few hundred SIP messages. A capacity test setting up 120 calls at once gets 100 Trying,
180 Ringing and 200 OK with SDP for each within a few hundred milliseconds, while the event
loop is busy starting the calls' media: measured in the lab (bench/calls_vs_sipp.py, 120
calls), 74 datagrams were dropped on the site's SIP socket (``RcvbufErrors``) and 34 calls
never saw a response, although the far end had answered every INVITE. SIPp, in C, drains
its socket fast enough; we make room instead. ``SO_RCVBUFFORCE`` (root, as the lab and a
laptop's agent run) passes ``net.core.rmem_max``; without the right, ``SO_RCVBUF`` gets up to
that limit.
"""

from __future__ import annotations

import contextlib
import socket

SO_RCVBUFFORCE = getattr(socket, "SO_RCVBUFFORCE", 33)  # Linux; absent from Python's module
SIP_RCVBUF = 4 << 20  # 4 MiB: thousands of SIP messages, a few seconds of a 240-call burst


def enlarge(sock: socket.socket | None, size: int = SIP_RCVBUF) -> int:
    """Ask for a ``size``-byte receive buffer on ``sock``; the size the kernel granted (0
    without a socket). Never raises: a smaller buffer is still a working socket."""
    if sock is None:
        return 0
    for option in (SO_RCVBUFFORCE, socket.SO_RCVBUF):
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, option, size)
            break
    try:
        return int(sock.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF))
    except OSError:
        return 0
