"""What a technician sees while the recette runs: which checks run now, calls up, time left.

At a terminal a live panel (``rich``, maintained and already how Python tools draw live
tables); elsewhere (a CI log, a pipe) one plain line per finished check, as before. Either
way on stderr: stdout carries the summary a script may read.
"""

from __future__ import annotations

import sys
from typing import TextIO

import pytest
from rich.console import Console, Group
from rich.live import Live
from rich.table import Table
from rich.text import Text

from harness.results import CheckResult
from harness.schedule import Snapshot


def _clock(seconds: float) -> str:
    s = max(0, round(seconds))
    return f"{s // 60} min {s % 60:02d} s" if s >= 60 else f"{s} s"


class Progress:
    """Registered by the plugin: a line per finished check, and the live panel on a tty."""

    def __init__(self, results: dict[str, CheckResult], *, live: bool | None = None,
                 stream: TextIO | None = None) -> None:
        self.results = results
        self.total = 0
        self.done = 0
        self.stream = stream or sys.__stderr__ or sys.stderr
        self.live_wanted = self.stream.isatty() if live is None else live
        self._live: Live | None = None

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        self.total = len(session.items)

    def pytest_runtest_logfinish(self, nodeid: str) -> None:
        res = self.results.get(nodeid)
        if res is None:
            return
        self.done += 1
        line = (f"[{self.done}/{self.total}] {res.status.upper():<5} {res.id} "
                f"({res.duration_s:.1f} s)")
        if self._live is not None:
            self._live.console.print(Text("  " + line, style=_STYLE.get(res.status, "")))
        else:
            print("  " + line, file=self.stream, flush=True)

    def view(self, snap: Snapshot) -> None:
        """Called by the scheduler a few times a second from the main thread."""
        if not self.live_wanted:
            return
        if self._live is None:
            console = Console(file=self.stream, force_terminal=True)
            self._live = Live(console=console, auto_refresh=False, transient=True)
            self._live.start()
        self._live.update(_panel(snap), refresh=True)

    def pytest_sessionfinish(self) -> None:
        if self._live is not None:
            self._live.stop()
            self._live = None


_STYLE = {"pass": "green", "fail": "bold red", "error": "bold yellow", "skip": "dim"}


def _panel(snap: Snapshot) -> Group:
    table = Table(box=None, show_header=False, pad_edge=False)
    table.add_column("check")
    table.add_column("elapsed", justify="right")
    for ident, elapsed in sorted(snap.running, key=lambda r: -r[1]):
        table.add_row(Text(f"  ▶ {ident}"), _clock(elapsed))  # Text: "[trunk01]" is no markup
    gauges = "".join(f", {n} {name}" for name, n in snap.gauges.items())
    head = Text(f"recette: {snap.done}/{snap.total} checks done, {len(snap.running)} "
                f"running, {snap.waiting} waiting{gauges}; about {_clock(snap.left_s)} left "
                f"(elapsed {_clock(snap.elapsed_s)})", style="bold")
    return Group(head, table)
