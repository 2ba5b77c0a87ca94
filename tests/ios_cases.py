"""The Cisco IOS audit cases as data folders (Genie's way): ``tests/data/ios/<case>/`` holds
``config.txt``, a running-config as the device shows it (or, with ``shape``, as a tool or a
person hands it over: a terminal capture, an Oxidized or RANCID backup, an unindented paste),
and ``expected.json``, what the audit must conclude on it: the router and server the profile
gives (``"profile": false``: none, as ``recette audit`` without ``--profile``), with the
operator's other addresses by role when it has some (``signalling``, ``media``), each
finding's code, severity and cited lines (number → the line's text) and, where the case is
about them, its parameters as English text (``params``), the lines the parser notes as not
evaluated (``unevaluated``), or the message code of the error that makes the configuration
unauditable (``error``).

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

from harness.messages import Msg
from harness.profile import Router
from router_checks.audit import Finding, audit, plan_of, unusable
from router_checks.cisco_ios import CISCO_IOS, parse
from router_checks.model import RouterModel
from router_checks.offline import default_router

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

    def operator(self) -> dict[IPv4Address, tuple[str, ...]]:
        """The operator's addresses by role, as ``Operator.addresses()`` gives them."""
        out: dict[IPv4Address, tuple[str, ...]] = {self.server: ("registrar",)}
        for role in ("signalling", "media"):
            for text in self.expected.get(role, []):
                ip = IPv4Address(text)
                out[ip] = (*out.get(ip, ()), role)
        return out

    @property
    def shape(self) -> str | None:
        """How the file was handed over, when it is not the device's own running-config."""
        shape = self.expected.get("shape")
        return str(shape) if shape else None

    @property
    def profiled(self) -> bool:
        """False: audited as ``recette audit`` without a profile (no LAN plan)."""
        return bool(self.expected.get("profile", True))

    @property
    def error(self) -> str | None:
        return self.expected.get("error")

    def unevaluated(self) -> set[int]:
        return {int(n) for n in self.expected.get("unevaluated", [])}

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

    def params(self) -> dict[str, dict[str, str]]:
        """Per finding code, the parameters the case is about, as English text."""
        return {f["code"]: f["params"] for f in self.expected["findings"] if "params" in f}

    def cited(self) -> dict[int, str]:
        """Every line the expected findings cite, with its text as in config.txt."""
        return {int(n): text for f in self.expected["findings"] for n, text in f["lines"].items()}


@cache
def case(name: str) -> Case:
    folder = DATA / name
    return Case(name, folder / "config.txt",
                json.loads((folder / "expected.json").read_text(encoding="utf-8")))


def param_text(value: object) -> str:
    """A message parameter as the English sentence shows it (a list joined with "; ")."""
    if isinstance(value, list):
        return "; ".join(param_text(v) for v in value)
    return str(value) if isinstance(value, Msg) else "" if value is None else str(value)


def keys(findings: Iterable[Finding]) -> set[Key]:
    """The audit's findings in the form ``expected.json`` gives them."""
    return {(f.code, f.severity, tuple(sorted({n for s in f.sources for n in s.lines})))
            for f in findings}


@dataclass(frozen=True)
class Outcome:
    model: RouterModel
    errors: list[Msg]  # why the configuration cannot be audited (then no finding)
    findings: list[Finding]

    def unevaluated(self) -> set[int]:
        """The line numbers the parser noted as not evaluated."""
        notes = self.model.sources.get("unevaluated", "").splitlines()
        return {int(n) for line in notes for n in line.split(": ")[0].rsplit(":", 1)[1].split(",")}


def outcome(c: Case, text: str | None = None) -> Outcome:
    """The audit of the case (or of ``text`` under the case's profile), as ``router.audit``
    and ``recette audit`` run it: an error when the configuration cannot be read."""
    model = parse(c.text if text is None else text)
    errors = unusable(model)
    if errors:
        return Outcome(model, errors, [])
    router = c.router() if c.profiled else default_router(CISCO_IOS)
    findings, _ = audit(model, router, c.operator(), plan_of(router if c.profiled else None))
    return Outcome(model, [], findings)


# The cases the IOS emulator can serve as a device's running-config (no terminal or tool shape).
SERVED = tuple(n for n in NAMES if case(n).shape is None)
