"""What the console's tests share: the clock they move (activation is allowed 24 h after a
verified pass) and the app served on a loopback port, as `recette console serve` serves it."""

from __future__ import annotations

import contextlib
import datetime as dt
import threading
from collections.abc import Iterator

from werkzeug.serving import make_server

from harness.console.app import create_app
from harness.console.store import ConsoleStore

T0 = dt.datetime(2026, 11, 2, 9, 30, tzinfo=dt.UTC)


class Clock:
    """The console's "now", set by the test."""

    def __init__(self, at: dt.datetime = T0) -> None:
        self.at = at

    def __call__(self) -> dt.datetime:
        return self.at


@contextlib.contextmanager
def serving(store: ConsoleStore, clock: Clock) -> Iterator[str]:
    """The console on ``store`` at a free loopback port (its base URL), stopped on exit."""
    server = make_server("127.0.0.1", 0, create_app(store, now=clock, secure_cookies=False),
                         threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(10)
