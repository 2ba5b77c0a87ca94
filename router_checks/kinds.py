"""The router-kind table: profile ``router.kind`` → what collects, parses, saves and reads
that kind of router (netmiko's ``CLASS_MAPPER``, testinfra's ``BACKENDS``).

Why one table: the online audit (check_router.py), the offline audit (``recette audit``,
offline.py), the CLI's ``--kind`` choices and the runner's saved configuration all look the
kind up here and never test its name, so a new kind touches no code that uses kinds. The
core reaches this module only through the runner's table of rooms
(``harness.rooms.ROUTER_KINDS``), never by a static import.

Adding a router kind:

1. A subpackage ``router_checks/<kind>/`` whose ``__init__.py`` holds one instance of a
   :class:`~router_checks.kind.RouterKind` subclass (start from ``TextKind`` when the
   configuration is one text, ``JsonKind`` when it is several command outputs): ``name``,
   the netmiko ``device_type``, ``saved_name``, ``collect`` (with the shared session of
   :mod:`router_checks.collect`) and ``parse`` into a :class:`~router_checks.model.RouterModel`.
2. One line in :data:`KINDS` below. The profile's ``router.kind``, the CLI's ``--kind``
   choices, the runner and the offline audit read this table.
3. Test data: saved configurations with their expected findings, as tests/data/ios/ does.
"""

from __future__ import annotations

from router_checks.cisco_ios import CISCO_IOS
from router_checks.kind import RouterKind
from router_checks.offline import audit_file
from router_checks.opios import OPIOS

__all__ = ["KINDS", "RouterKind", "audit_file"]

KINDS: dict[str, RouterKind] = {
    "opios": OPIOS,
    "cisco_ios": CISCO_IOS,
}
