"""Network-namespace plumbing: run commands in a namespace, or move this thread into one.

The lab's hosts are network namespaces. Checks run "from the customer's voice LAN", which in the
lab means inside the LAN namespace; moving the calling thread with setns(2) lets the runner and
the tests open ordinary sockets there without re-executing Python under ``ip netns exec``.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import subprocess
from collections.abc import Iterator, Sequence
from pathlib import Path

CLONE_NEWNET = 0x40000000
NETNS_RUN_DIR = Path("/var/run/netns")

_libc = ctypes.CDLL(None, use_errno=True)


def _setns(fd: int) -> None:
    if _libc.setns(fd, CLONE_NEWNET) != 0:
        err = ctypes.get_errno()
        raise OSError(err, os.strerror(err))


def restore(fd: int) -> None:
    """Move the calling thread back into the namespace ``fd`` refers to (see :func:`enter`)."""
    _setns(fd)


def exists(name: str) -> bool:
    """True when a named namespace (``ip netns add NAME``) exists."""
    return (NETNS_RUN_DIR / name).exists()


def list_names() -> list[str]:
    """Names of all named network namespaces on this machine."""
    if not NETNS_RUN_DIR.is_dir():
        return []
    return sorted(p.name for p in NETNS_RUN_DIR.iterdir())


def enter(name: str) -> None:
    """Move the calling thread into namespace ``name`` for good (used by the check runner)."""
    with open(NETNS_RUN_DIR / name, "rb") as f:
        _setns(f.fileno())


@contextlib.contextmanager
def inside(name: str | None) -> Iterator[None]:
    """Run the body with the calling thread in namespace ``name`` (``None``: stay here).

    Sockets created in the body stay in that namespace after the block ends, which is what a
    test needs to send from one lab host and listen on another in the same process.
    """
    if name is None:
        yield
        return
    with open("/proc/thread-self/ns/net", "rb") as home:
        enter(name)
        try:
            yield
        finally:
            _setns(home.fileno())


def run(
    ns: str | None,
    argv: Sequence[str],
    *,
    check: bool = True,
    timeout: float = 30,
    input: str | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run ``argv`` inside ``ns`` (or here when ``None``), capturing text output."""
    full = ["ip", "netns", "exec", ns, *argv] if ns else list(argv)
    return subprocess.run(
        full, check=check, capture_output=True, text=True, timeout=timeout, input=input
    )


def popen(ns: str | None, argv: Sequence[str], **kwargs: object) -> subprocess.Popen[bytes]:
    """Start ``argv`` in the background inside ``ns``."""
    full = ["ip", "netns", "exec", ns, *argv] if ns else list(argv)
    proc: subprocess.Popen[bytes] = subprocess.Popen(full, **kwargs)  # type: ignore[call-overload]
    return proc
