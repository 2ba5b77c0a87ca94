"""The OpIOS audit cases as data folders: ``tests/data/opios/<case>/`` holds ``ruleset.nft``
(the ruleset as an integrator writes it), ``bundle.json`` (what the collector brings back
from a router running it, saved as ``router-opios.json``: ``ip``, ``nft -j`` and ``nft -a``
as the real tools print them) and ``expected.json``, what the audit must conclude: the
operator's addresses by role and the router fields the profile gives, each finding's code,
severity, cited lines (number of the ``nft -a list ruleset`` line → its text, handle left
out) and the parameters the case is about (English text), and what the configuration
predicts open per operator address, to other sources and to any address.

Why the bundle is generated, not written by hand: nft reorders and rewrites what it is
given (sets, priorities, ``ct state`` lists), and the audit reads what it prints. Run
``python -m tests.opios_cases`` as root to rebuild every ``bundle.json`` from its
``ruleset.nft`` in a throwaway network namespace shaped like an OpIOS router (wan0 with the
default route, voice0, data0); ``tests/system/test_opios_nft.py`` checks that today's nft
still gives each case's findings.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from functools import cache
from ipaddress import IPv4Address
from pathlib import Path
from typing import Any

from harness.portset import fmt
from harness.profile import Router
from router_checks.audit import Finding, Prediction, audit
from router_checks.kind import Bundle
from router_checks.model import RouterModel
from router_checks.opios import OPIOS
from router_checks.opios.collect import COMMANDS, DHCP, DHCP_PATH
from router_checks.opios.parse import NFT_TEXT
from tests.ios_cases import Key, param_text

DATA = Path(__file__).resolve().parent / "data" / "opios"
NAMES = tuple(sorted(p.name for p in DATA.iterdir() if (p / "ruleset.nft").is_file()))
DHCP_FILE = "/etc/dnsmasq.conf"
DHCP_TEXT = ("interface=data0\ndhcp-range=192.168.1.100,192.168.1.200,12h\n"
             "interface=voice0\ndhcp-range=192.168.254.100,192.168.254.200,12h\n")
INTERFACES = (("wan0", "192.0.2.2/24"), ("data0", "192.168.1.1/24"),
              ("voice0", "192.168.254.1/24"))


@dataclass(frozen=True)
class Case:
    name: str
    folder: Path
    expected: dict[str, Any]

    @property
    def ruleset(self) -> str:
        return (self.folder / "ruleset.nft").read_text(encoding="utf-8")

    def bundle(self) -> Bundle:
        path = self.folder / "bundle.json"
        return OPIOS.load(path.read_text(encoding="utf-8"), path)

    def operator(self) -> dict[IPv4Address, tuple[str, ...]]:
        """The operator's addresses by role, as ``Operator.addresses()`` gives them."""
        op = self.expected["operator"]
        out: dict[IPv4Address, tuple[str, ...]] = {IPv4Address(op["sip_server"]): ("registrar",)}
        for key, role in (("signalling_ips", "signalling"), ("media_ips", "media")):
            for text in op.get(key, []):
                ip = IPv4Address(text)
                out[ip] = (*out.get(ip, ()), role)
        return out

    def router(self) -> Router:
        return Router.model_validate({"kind": "opios", "host": "192.168.254.1",
                                      "username": "audit", "password": "x",
                                      **self.expected.get("router", {})})

    def findings(self) -> set[Key]:
        return {(f["code"], f["severity"], tuple(sorted(int(n) for n in f["lines"])))
                for f in self.expected["findings"]}


@cache
def case(name: str) -> Case:
    folder = DATA / name
    return Case(name, folder, json.loads((folder / "expected.json").read_text("utf-8")))


@dataclass(frozen=True)
class Outcome:
    model: RouterModel
    findings: list[Finding]
    predicted: Prediction

    def unevaluated(self) -> list[str]:
        return self.model.sources.get("unevaluated", "").splitlines()


def outcome(c: Case, bundle: Bundle | None = None) -> Outcome:
    """The audit of the case's bundle (or of ``bundle``), as ``router.audit`` runs it."""
    model = OPIOS.parse(bundle if bundle is not None else c.bundle())
    findings, predicted = audit(model, c.router(), c.operator())
    return Outcome(model, findings, predicted)


def differences(c: Case, got: Outcome, listing: str) -> list[str]:
    """What the audit concluded that ``expected.json`` does not say (empty: all agree): the
    findings and the lines they cite (as ``listing``, the bundle's ``nft -a`` text, has
    them), their parameters, the prediction, and no line left unevaluated."""
    out: list[str] = []
    keys = {(f.code, f.severity, tuple(sorted({n for s in f.sources for n in s.lines})))
            for f in got.findings}
    if keys != c.findings():
        out.append(f"findings {sorted(keys)} != {sorted(c.findings())}: "
                   + " | ".join(f.line() for f in got.findings))
    lines = listing.split("\n")
    for f in got.findings:
        for s in f.sources:
            shown = tuple(lines[n - 1].split(" # handle")[0].strip() for n in s.lines)
            if s.text != shown:
                out.append(f"{f.code} cites {s.text}, the listing has {shown}")
    for want in c.expected["findings"]:
        for n, text in want["lines"].items():
            if lines[int(n) - 1].split(" # handle")[0].strip() != text:
                out.append(f"expected line {n} is not {text!r}")
        same = [f for f in got.findings if f.code == want["code"]]
        for key, value in want.get("params", {}).items():
            if not same or param_text(same[0].message.params.get(key)) != value:
                out.append(f"{want['code']} {key}: "
                           f"{[param_text(f.message.params.get(key)) for f in same]} != {value!r}")
    p = got.predicted
    said = {"predicted": {str(ip): fmt(ports) for ip, ports in p.by_source.items()},
            "others": fmt(p.others), "any_source": fmt(p.anyone), "sip_alg": p.sip_alg}
    out += [f"{k}: {said[k]!r} != {c.expected[k]!r}" for k in said
            if k in c.expected and said[k] != c.expected[k]]
    if got.unevaluated():
        out.append(f"not evaluated: {got.unevaluated()}")
    return out


def collect(ruleset: str) -> Bundle:
    """What the collector brings back from an OpIOS-shaped router running ``ruleset``: a
    throwaway namespace with its interfaces and default route, the ruleset loaded by the
    real nft, the collector's commands run inside (root only)."""
    from harness import netns

    ns = f"recette-opioscase-{os.getpid()}"
    netns.run(None, ["ip", "netns", "add", ns])
    try:
        for name, addr in INTERFACES:
            netns.run(ns, ["ip", "link", "add", name, "type", "veth", "peer", "name",
                           f"{name}p"])
            netns.run(ns, ["ip", "addr", "add", addr, "dev", name])
            netns.run(ns, ["ip", "link", "set", name, "up"])
            netns.run(ns, ["ip", "link", "set", f"{name}p", "up"])
        netns.run(ns, ["ip", "route", "add", "default", "via", "192.0.2.1"])
        netns.run(ns, ["nft", "-f", "-"], input=ruleset)
        out = {cmd: netns.run(ns, cmd.split()).stdout for cmd in COMMANDS}
    finally:
        netns.run(None, ["ip", "netns", "delete", ns], check=False)
    out[DHCP] = DHCP_TEXT
    out[DHCP_PATH] = DHCP_FILE
    return out


def main() -> None:
    """Rebuild every case's ``bundle.json`` from its ``ruleset.nft`` and print what each
    audit concludes against its ``expected.json``."""
    for name in NAMES:
        c = case(name)
        bundle = collect(c.ruleset)
        (c.folder / "bundle.json").write_text(OPIOS.dump(bundle), encoding="utf-8")
        problems = differences(c, outcome(c, bundle), bundle[NFT_TEXT])
        print(f"{name}: " + ("as expected" if not problems else "; ".join(problems)))


if __name__ == "__main__":
    main()
