"""Router audit messages: see harness.messages. Filled by the router room."""

from __future__ import annotations

from harness.messages import Catalog

TEXTS: Catalog = {}
