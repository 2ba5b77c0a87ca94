"""The IOS exec commands the emulator knows, as a keyword tree, and IOS's way of parsing a
typed line against it.

Why apart: IOS's abbreviation rules (unique prefixes, exact match wins, ambiguity errors,
the caret under the first wrong character, privileged commands invisible in user EXEC)
are what a netmiko driver trips over first; the tree also keeps real IOS keywords the
emulator does not implement, so that abbreviations stay as ambiguous as on a router.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from harness.lab.ios_emulator.session import CliSession
from harness.lab.ios_emulator.show import nat_translations, version_text, vlan_table

INVALID = "% Invalid input detected at '^' marker."
INCOMPLETE = "% Incomplete command."

Handler = Callable[["CliSession", list[str]], str]


@dataclass
class _Node:
    """One keyword (or ``<lo-hi>`` number) of the command tree.

    ``priv`` is the lowest privilege level that sees the keyword: privileged commands simply
    do not exist in user EXEC, which is why IOS answers them with ``% Invalid input``.
    """

    priv: int = 1
    handler: Handler | None = None
    pipe: bool = False  # accepts ``| include ...`` output modifiers
    incomplete: str = INCOMPLETE
    children: dict[str, _Node] = field(default_factory=dict)
    number: tuple[int, int] | None = None  # this node is an integer argument in that range
    emulated: bool = True  # False: a real IOS keyword kept only so abbreviations stay
    #                        as ambiguous as on a router; using it is "% Invalid input"


@dataclass
class _Parsed:
    handler: Handler | None = None
    args: list[str] = field(default_factory=list)
    error: str = ""  # ready-to-print error text (caret line included)
    pipe: tuple[str, str] | None = None


def _tokens(line: str) -> list[tuple[int, str]]:
    return [(m.start(), m.group()) for m in re.finditer(r"\S+", line)]


def _common_prefix(a: str, b: str) -> int:
    n = 0
    while n < min(len(a), len(b)) and a[n] == b[n]:
        n += 1
    return n


class CommandTree:
    """Keyword matching as IOS does it: case-insensitive unique prefixes, an exact match
    wins over longer keywords, and the caret points where the input stopped matching."""

    def __init__(self, root: _Node) -> None:
        self.root = root

    def parse(self, line: str, priv: int, prompt_len: int) -> _Parsed:
        body, bar, modifier = line.partition("|")
        toks = _tokens(body)

        def caret(col: int) -> _Parsed:
            return _Parsed(error=" " * (prompt_len + col) + "^\n" + INVALID + "\n\n")

        node = self.root
        args: list[str] = []
        for index, (col, tok) in enumerate(toks):
            visible = {k: c for k, c in node.children.items() if c.priv <= priv}
            word = tok.lower()
            numeric = [c for c in visible.values() if c.number is not None]
            if numeric and word.isdigit():
                lo, hi = numeric[0].number or (0, 0)
                if not lo <= int(word) <= hi:
                    return caret(col)
                node = numeric[0]
                args.append(word)
                continue
            keywords = {k: c for k, c in visible.items() if c.number is None}
            if word in keywords:
                node = keywords[word]
                if not node.emulated:
                    return caret(col)
                continue
            hits = [k for k in keywords if k.startswith(word)]
            if len(hits) == 1:
                node = keywords[hits[0]]
                if not node.emulated:
                    return caret(col)
                continue
            if len(hits) > 1:
                return _Parsed(error=f'% Ambiguous command:  "{line[:col + len(tok)]}"\n')
            if index == 0:
                if len(toks) == 1:  # IOS tries to telnet to a single unknown word
                    return _Parsed(error=f'Translating "{tok}"\n% Unknown command or computer'
                                         " name, or unable to find computer address\n")
                return caret(toks[1][0])
            best = max((_common_prefix(word, k) for k in keywords), default=0)
            return caret(col + best)
        if node is self.root:  # only an output modifier was typed
            return caret(len(body))
        if node.handler is None:
            return _Parsed(error=node.incomplete + "\n\n")
        parsed = _Parsed(handler=node.handler, args=args)
        if bar:
            if not node.pipe:
                return caret(len(body))
            mod = _tokens(modifier)
            verbs = ["begin", "count", "exclude", "include", "section"]
            if not mod:
                return _Parsed(error=INCOMPLETE + "\n\n")
            hits = [v for v in verbs if v.startswith(mod[0][1].lower())]
            if len(hits) != 1:
                return caret(len(body) + 1 + mod[0][0])
            if len(mod) == 1:
                return _Parsed(error=INCOMPLETE + "\n\n")
            parsed.pipe = (hits[0], modifier[mod[1][0]:].strip())
        return parsed


def _show_run(session: CliSession, _args: list[str]) -> str:
    cfg = session.emulator.config_text
    size = len(cfg.encode())
    body = cfg if cfg.endswith("\n") else cfg + "\n"
    return f"Building configuration...\n\nCurrent configuration : {size} bytes\n{body}\n"


def _show_version(session: CliSession, _args: list[str]) -> str:
    emu = session.emulator
    return version_text(emu.hostname, emu.model, time.monotonic() - emu.started_at)


def _show_vlan(session: CliSession, _args: list[str]) -> str:
    return vlan_table(session.emulator.config_text) or ""


def _show_nat(session: CliSession, _args: list[str]) -> str:
    return nat_translations(session.emulator.config_text)


def _show_clock(_session: CliSession, _args: list[str]) -> str:
    now = datetime.now()
    return now.strftime("%H:%M:%S.") + f"{now.microsecond // 1000:03d} CET " + \
        now.strftime("%a %b %d %Y") + "\n"


def _show_privilege(session: CliSession, _args: list[str]) -> str:
    return f"Current privilege level is {session.priv}\n"


def _terminal_length(session: CliSession, args: list[str]) -> str:
    session.length = int(args[0])
    return ""


def _terminal_width(session: CliSession, args: list[str]) -> str:
    session.width = int(args[0])
    return ""


def _noop(_session: CliSession, _args: list[str]) -> str:
    return ""


# Real IOS 15 keywords the emulator does not implement: present so that "s", "t", "dis"...
# are ambiguous as on a router, "% Invalid input" when used. (name, lowest privilege)
_EXEC_DECOYS = (
    [(k, 1) for k in ("access-enable", "clear", "connect", "disconnect", "help", "lock",
                      "login", "mrinfo", "name-connection", "ping", "ppp", "release",
                      "renew", "resume", "set", "slip", "ssh", "systat", "telnet",
                      "traceroute", "tunnel", "where", "x28", "x3")]
    + [(k, 15) for k in ("archive", "cd", "clock", "configure", "copy", "debug", "delete",
                         "dir", "erase", "format", "mkdir", "more", "reload", "rmdir",
                         "send", "setup", "test", "undebug", "verify", "write")])
_SHOW_DECOYS = (
    [(k, 1) for k in ("aaa", "access-lists", "arp", "cdp", "controllers", "dhcp", "flash:",
                      "history", "hosts", "interfaces", "inventory", "ipv6", "license",
                      "logging", "ntp", "processes", "sessions", "ssh", "tcp", "terminal",
                      "users")]
    + [(k, 15) for k in ("archive", "debugging", "startup-config", "tech-support")])
_SHOW_IP_DECOYS = [(k, 1) for k in ("access-lists", "arp", "dhcp", "interface", "route",
                                     "ssh")]


def _decoys(node: _Node, names: Sequence[tuple[str, int]]) -> None:
    for name, priv in names:
        node.children.setdefault(name, _Node(priv=priv, emulated=False))


def build_tree(has_vlans: bool) -> CommandTree:
    """The exec commands the emulator knows; ``show vlan*`` exists only on a router whose
    config has VLANs (an 800 with a switch)."""
    vlan = _Node(handler=_show_vlan, pipe=True, children={"brief": _Node(handler=_show_vlan,
                                                                         pipe=True)})
    vlan_switch = _Node(handler=_show_vlan, pipe=True,
                        children={"brief": _Node(handler=_show_vlan, pipe=True)})
    show = _Node(incomplete='% Type "show ?" for a list of subcommands', children={
        "clock": _Node(handler=_show_clock),
        "ip": _Node(children={"nat": _Node(children={
            "translations": _Node(handler=_show_nat, pipe=True)})}),
        "privilege": _Node(handler=_show_privilege),
        "running-config": _Node(priv=15, handler=_show_run, pipe=True),
        "version": _Node(handler=_show_version, pipe=True),
    })
    if has_vlans:
        show.children["vlan"] = vlan
        show.children["vlan-switch"] = vlan_switch
    _decoys(show, _SHOW_DECOYS)
    _decoys(show.children["ip"], _SHOW_IP_DECOYS)
    terminal = _Node(children={
        "length": _Node(children={"<0-512>": _Node(number=(0, 512), handler=_terminal_length)}),
        "width": _Node(children={"<0-512>": _Node(number=(0, 512), handler=_terminal_width)}),
        "monitor": _Node(handler=_noop),
    })
    root = _Node(children={
        "disable": _Node(handler=CliSession.cmd_disable),
        "enable": _Node(handler=CliSession.cmd_enable),
        "exit": _Node(handler=CliSession.cmd_exit),
        "logout": _Node(handler=CliSession.cmd_exit),
        "quit": _Node(handler=CliSession.cmd_exit),
        "show": show,
        "terminal": terminal,
    })
    _decoys(root, _EXEC_DECOYS)
    return CommandTree(root)

