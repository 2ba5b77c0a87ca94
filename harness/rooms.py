"""The runner's table of rooms: the only place the core names the check packages.

The core (:mod:`harness.runner`, :mod:`harness.plugin`, :mod:`harness.messages`, the CLI)
reaches the checks, their texts and the router kinds through these strings and
``importlib``, never by a static import, so a room can grow without the core knowing it and
the import graph stays one-way (rooms import the core, not the reverse).
"""

from __future__ import annotations

import importlib
from types import ModuleType

# Packages whose check_*.py modules the runner collects, in the order a technician works.
CHECK_PACKAGES = ("sip_checks", "router_checks")

# Message catalogs (``TEXTS``): the core's own first, then one per room.
TEXT_MODULES = ("harness.texts", "sip_checks.texts", "router_checks.texts")

# The router kinds table (``KINDS``: profile ``router.kind`` -> collect, parse, save, load).
ROUTER_KINDS = "router_checks.kinds"

# `recette analyse`: a capture we did not make, judged as the live checks would.
ANALYSE = "sip_checks.analyse"

# The reports: pytest-html hooks (report.html), the acceptance sheet, its PDF.
HTML_PLUGIN = "reports.html"
SHEET = "reports.sheet"
PDF = "reports.pdf"


def load(name: str) -> ModuleType:
    """Import a room's module by its table name."""
    return importlib.import_module(name)
