"""The Cisco IOS audit cases as data folders (Genie's way): ``tests/data/ios/<case>/`` holds
``config.txt``, a running-config as the device shows it, and ``expected.json``, what the
audit must conclude on it: the router and server the profile gives, and each finding's code,
severity and cited lines (number → the line's text).

Why a helper module and not a table in a test: the parser test, the SSH test against the IOS
emulator and the emulator's own fixture checks all read the same cases; a case is added by
adding a folder, and no test module imports another.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from ipaddress import IPv4Address
from pathlib import Path
from typing import Any

from harness.profile import Router
from router_checks.audit import Finding

DATA = Path(__file__).resolve().parent / "data" / "ios"
NAMES = tuple(sorted(p.name for p in DATA.iterdir() if (p / "config.txt").is_file()))

# What a finding is compared on: code, severity and the sorted line numbers it cites.
Key = tuple[str, str, tuple[int, ...]]


@dataclass(frozen=True)
class Case:
    name: str
    path: Path  # config.txt
    expected: dict[str, Any]

    @property
    def text(self) -> str:
        return self.path.read_text(encoding="utf-8")

    @property
    def server(self) -> IPv4Address:
        return IPv4Address(self.expected["server"])

    def router(self, **over: object) -> Router:
        """The profile's router for this case (``over``: SSH details and the like)."""
        data: dict[str, object] = {"kind": "cisco_ios", "host": "192.0.2.1",
                                   "username": "admin", "password": "x",
                                   **self.expected.get("router", {})}
        data.update(over)
        return Router.model_validate(data)

    def findings(self) -> set[Key]:
        return {(f["code"], f["severity"], tuple(sorted(int(n) for n in f["lines"])))
                for f in self.expected["findings"]}

    def cited(self) -> dict[int, str]:
        """Every line the expected findings cite, with its text as in config.txt."""
        return {int(n): text for f in self.expected["findings"] for n, text in f["lines"].items()}


@cache
def case(name: str) -> Case:
    folder = DATA / name
    return Case(name, folder / "config.txt",
                json.loads((folder / "expected.json").read_text(encoding="utf-8")))


def keys(findings: Iterable[Finding]) -> set[Key]:
    """The audit's findings in the form ``expected.json`` gives them."""
    return {(f.code, f.severity, tuple(sorted({n for s in f.sources for n in s.lines})))
            for f in findings}
