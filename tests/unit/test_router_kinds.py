"""The router-kind table (router_checks/kinds.py): what a kind must provide, that the profile
and the CLI agree with it, and the acceptance criterion of the architecture step: adding a
third kind is one subpackage and one table line, and then the offline audit and the saved
configuration work for it with no other file touched."""

from __future__ import annotations

import ast
import importlib
import json
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
from pydantic import ValidationError

from harness import cli, rooms
from harness.profile import Router
from harness.results import CheckResult, Figures, RouterConfig, RunResults
from harness.runner import write_router_config
from router_checks.kind import RouterKind
from router_checks.kinds import KINDS

REPO = Path(__file__).resolve().parents[2]
IOS_GOOD = REPO / "tests" / "data" / "ios" / "good" / "config.txt"
SERVER = "198.51.100.10"

# A toy kind a test adds: a router whose configuration is one text of "keyword args" lines.
TOY_KIND = '''
"""A toy router kind: one line per fact ("interface NAME ADDR/LEN ROLE", "forward PROTO
LO[-HI] HOST", "sip-alg on"), read from /etc/toy.conf over SSH."""

from __future__ import annotations

from ipaddress import IPv4Address, IPv4Interface

from harness.profile import Router
from router_checks.collect import run, session
from router_checks.kind import Bundle, TextKind
from router_checks.model import Interface, PortForward, PortRange, RouterModel, Source

ORIGIN = "cat /etc/toy.conf"


class Toy(TextKind):
    name = "static"
    device_type = "linux"
    saved_name = "router-static.txt"
    text_key = ORIGIN

    def collect(self, router: Router, *, timeout: float = 10.0) -> Bundle:
        with session(router, self.device_type, timeout) as conn:
            return {ORIGIN: run(conn, router, ORIGIN, timeout) or ""}

    def parse(self, bundle: Bundle, origin: str | None = None) -> RouterModel:
        model = RouterModel(kind=self.name)
        for n, line in enumerate(bundle[ORIGIN].split("\\n"), 1):
            w = line.split()
            src = Source(origin or ORIGIN, (n,), (line.strip(),))
            if w[:1] == ["interface"]:
                model.interfaces.append(Interface(w[1], (IPv4Interface(w[2]),), None, w[3],
                                                  src))
            elif w[:1] == ["forward"]:
                lo, _, hi = w[2].partition("-")
                model.forwards.append(PortForward(w[1], (PortRange(int(lo), int(hi or lo)),),
                                                  IPv4Address(w[3]), (), src))
            elif w == ["sip-alg", "on"]:
                model.sip_alg = True
                model.sip_alg_sources.append(src)
        return model


TOY = Toy()
'''

TOY_CONFIG = """\
hostname toy
interface data0 192.168.1.1/24 lan
interface voice0 192.168.254.1/24 lan
interface wan0 192.0.2.2/24 wan
forward udp 5060 192.168.254.10
forward udp 10000-20000 192.168.254.10
sip-alg on
"""


@pytest.fixture
def toy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[RouterKind]:
    """The third kind: ONE subpackage (written outside the repository) and ONE table line."""
    package = tmp_path / "kinds" / "toy_static"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text(textwrap.dedent(TOY_KIND), encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path / "kinds"))
    kind: RouterKind = importlib.import_module("toy_static").TOY
    monkeypatch.setitem(KINDS, "static", kind)  # the table line
    yield kind
    sys.modules.pop("toy_static", None)


def _audit(config: Path, kind: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    """`recette audit` through the CLI's own handler, in process (so the table line the test
    added is the one it reads)."""
    code = cli.main(["audit", "--config", str(config), "--kind", kind, "--server", SERVER])
    return code, capsys.readouterr().out


def test_a_third_kind_audits_offline(toy: RouterKind, tmp_path: Path,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "toy.conf"
    config.write_text(TOY_CONFIG, encoding="utf-8")
    code, out = _audit(config, "static", capsys)
    assert code == 1
    assert out.splitlines() == [
        "[fail] FW_OPEN_TO_OTHERS: UDP 5060, 10000-20000 also open to sources other than the "
        f"operator's addresses (198.51.100.10): any address ({config}:5; {config}:6)",
        "[fail] SIP_ALG_ON: the router's SIP ALG is enabled: it rewrites SIP/SDP and breaks "
        "registrations and audio, and opens the ports it reads in the SDP whatever the "
        f"firewall's rules say (disable it) ({config}:7)",
        # The toy reads nothing of what guards the router itself: said, never a pass.
        "[warn] ADMIN_NOT_READ: the router's own administration (telnet, SSH, web) is not "
        "evaluated: the static reader does not read what guards the router itself",
        "LAN plan: no LAN plan (no profile): LANs not compared; the configuration's own: "
        "data0 192.168.1.1/24, voice0 192.168.254.1/24"]
    args = ["audit", "--config", str(config), "--kind", "static", "--server", SERVER]
    assert cli.build_parser().parse_args(args).kind == "static"  # a --kind choice now


def test_a_third_kind_round_trips_through_the_saved_configuration(
        toy: RouterKind, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """What the audit collected (the typed figures) is saved beside the report under the
    kind's name and re-audited offline with the same findings."""
    bundle = {"cat /etc/toy.conf": TOY_CONFIG}
    results = RunResults(
        generated="2026-11-30T12:00:00", customer="c", site="s", operator_server=SERVER,
        lang="fr", counts={"pass": 0, "fail": 1, "error": 0, "skip": 0},
        checks=[CheckResult(id="router.audit", fr="", en="", status="fail",
                            figures=Figures(router_config=RouterConfig(kind="static",
                                                                       files=bundle)))])
    out = tmp_path / "out"
    out.mkdir()
    saved = write_router_config(RunResults.model_validate_json(results.model_dump_json()), out)
    assert saved == out / "router-static.txt"
    assert saved.read_text(encoding="utf-8") == TOY_CONFIG
    assert toy.load(saved.read_text(encoding="utf-8"), saved) == bundle
    code, text = _audit(saved, "static", capsys)
    assert code == 1
    assert [line.split(" (")[0] for line in text.splitlines()] == [
        "[fail] FW_OPEN_TO_OTHERS: UDP 5060, 10000-20000 also open to sources other than the "
        "operator's addresses",
        "[fail] SIP_ALG_ON: the router's SIP ALG is enabled: it rewrites SIP/SDP and breaks "
        "registrations and audio, and opens the ports it reads in the SDP whatever the "
        "firewall's rules say", "[warn] ADMIN_NOT_READ: the router's own administration",
        "LAN plan: no LAN plan"]


def _router(kind: str) -> dict[str, str]:
    return {"kind": kind, "host": "192.168.254.1", "username": "admin", "password": "x" * 8}


def test_the_profile_accepts_exactly_the_kinds_of_the_table(toy: RouterKind) -> None:
    """The profile reads the table (no Literal to keep in step): the toy kind's table line is
    enough for a profile to name it, and an unknown kind gets the one-line error naming every
    kind of the table."""
    for kind in KINDS:
        assert Router.model_validate(_router(kind)).kind == kind
    with pytest.raises(ValidationError) as info:
        Router.model_validate(_router("mikrotik"))
    (err,) = info.value.errors()
    assert err["type"] == "literal_error"
    assert err["ctx"]["expected"] == "'opios', 'cisco_ios' or 'static'"


def test_the_core_reaches_the_table_through_the_rooms() -> None:
    assert rooms.load(rooms.ROUTER_KINDS).KINDS is KINDS
    for path in (REPO / "harness").rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        imported = [n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)]
        imported += [a.name for n in ast.walk(tree) if isinstance(n, ast.Import)
                     for a in n.names]
        assert not [m for m in imported if m.startswith("router_checks")], path


def test_kind_names_appear_only_in_their_subpackage_and_the_table() -> None:
    """No if/else on the kind: outside its subpackage, a kind's name is a table key, the
    profile's Literal, or the lab's own router (data)."""
    allowed = {"router_checks/kinds.py", "harness/profile.py", "harness/lab/profile.py"}
    for pkg in ("harness", "router_checks", "sip_checks", "reports"):
        for path in (REPO / pkg).rglob("*.py"):
            rel = path.relative_to(REPO).as_posix()
            if rel in allowed or any(rel.startswith(f"router_checks/{k}/") for k in KINDS):
                continue
            names = {n.value for n in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
                     if isinstance(n, ast.Constant) and n.value in KINDS}
            assert not names, f"{rel} names router kinds {sorted(names)}"


OPIOS_BUNDLE = {
    "ip -o -4 addr show": "2: wan0    inet 192.0.2.2/24 brd 192.0.2.255 scope global wan0\n",
    "ip -j route": json.dumps([{"dst": "default", "gateway": "192.0.2.1", "dev": "wan0"}]),
    "nft -j list ruleset": json.dumps({"nftables": []}),
    "nft -a list ruleset": "",
    "dhcp": "dhcp-range=192.168.254.100,192.168.254.199,12h\n",
    "dhcp_config": "/etc/dnsmasq.conf",
}


@pytest.mark.parametrize("name", sorted(KINDS))
def test_every_kind_saves_and_reads_back_what_it_collected(name: str, tmp_path: Path) -> None:
    kind = KINDS[name]
    assert kind.name == name and kind.device_type and kind.saved_name.startswith("router-")
    bundle = (OPIOS_BUNDLE if name == "opios" else
              {"show running-config": IOS_GOOD.read_text(encoding="utf-8")})
    path = tmp_path / kind.saved_name
    path.write_text(kind.dump(bundle), encoding="utf-8")
    again = kind.load(path.read_text(encoding="utf-8"), path)
    assert {k: again[k] for k in bundle} == bundle
    assert kind.parse(again) == kind.parse(bundle)
    assert [title for title, _ in kind.shown(bundle)]
