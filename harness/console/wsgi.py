"""The console as a WSGI application for a WSGI server (``gunicorn
harness.console.wsgi:app``): the store from ``$RECETTE_GATE_URL``. Every worker and every
instance reads the same database and the same cookie key file (``$RECETTE_CONSOLE_KEY_FILE``,
default beside a SQLite store or ``/var/lib/recette/console.key``), so none holds state of
its own.
``RECETTE_CONSOLE_INSECURE_COOKIES=1`` only for plain HTTP without a TLS proxy;
``RECETTE_CONSOLE_PROXIES=N``: N reverse proxies in front (their X-Forwarded-For is trusted)."""

from __future__ import annotations

import os
from pathlib import Path

from harness.console.app import create_app
from harness.console.store import open_console

_key = os.environ.get("RECETTE_CONSOLE_KEY_FILE")
app = create_app(open_console(), key_file=Path(_key) if _key else None,
                 secure_cookies=os.environ.get("RECETTE_CONSOLE_INSECURE_COOKIES") != "1",
                 proxies=int(os.environ.get("RECETTE_CONSOLE_PROXIES", "0") or 0))
