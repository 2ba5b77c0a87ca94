"""Cisco IOS routers (800-series): the ``cisco_ios`` entry of the router-kind table.

Collected over SSH with netmiko's ``cisco_ios`` driver (:mod:`.collect`), read by
:mod:`.parse` (the single entry point over the section readers), saved beside the report as
``router-running-config.txt``, the running-config as ``copy running-config`` would write it
(secrets masked by :mod:`.sanitize`).
"""

from __future__ import annotations

from harness.profile import Router
from router_checks.cisco_ios import collect as _collect
from router_checks.cisco_ios.parse import ORIGIN, VERSION_ORIGIN, parse
from router_checks.kind import Bundle, TextKind
from router_checks.model import RouterModel

__all__ = ["CISCO_IOS", "parse"]


class CiscoIos(TextKind):
    name = "cisco_ios"
    device_type = "cisco_ios"
    saved_name = "router-running-config.txt"
    text_key = ORIGIN

    def collect(self, router: Router, *, timeout: float = 10.0) -> Bundle:
        return _collect.collect(router, self.device_type, timeout)

    def parse(self, bundle: Bundle, origin: str | None = None) -> RouterModel:
        return parse(bundle[ORIGIN], version=bundle.get(VERSION_ORIGIN),
                     origin=origin or ORIGIN)


CISCO_IOS = CiscoIos()
