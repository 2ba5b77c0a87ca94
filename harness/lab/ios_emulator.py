"""A small Cisco IOS (800-series, IOS 15.x) CLI served over real SSH.

Why: the router audit pulls configurations from Cisco routers with netmiko's unmodified
``cisco_ios`` driver, and no IOS device can run in CI or on a technician's laptop. This
emulator speaks real SSH (paramiko in server mode, one thread per connection) and imitates
the parts of the IOS CLI netmiko and the audit rely on: echo of typed characters, the
``HOST>`` / ``HOST#`` prompts, ``enable`` with its ``Password:`` prompt, ``terminal length``
and ``terminal width``, ``--More--`` paging, IOS's abbreviation rules and its error texts
(``% Invalid input detected at '^' marker.``, ``% Incomplete command.``, ``% Ambiguous
command``), and a few ``show`` commands whose output is derived from a fixture
running-config. It is a test double, not a router: it accepts no configuration commands.

Passwords are compared in constant time and never logged, printed or kept in ``repr``.

CLI (runs until killed; secrets come from the environment, never from the command line)::

    IOS_EMU_PASSWORD=... IOS_EMU_SECRET=... \\
        python -m harness.lab.ios_emulator --listen 127.0.0.1:2222 \\
        --config tests/data/ios/good/config.txt --username admin
"""

from __future__ import annotations

import argparse
import codecs
import contextlib
import hmac
import ipaddress
import logging
import os
import re
import signal
import socket
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from types import FrameType, TracebackType

import paramiko
from paramiko.common import (
    AUTH_FAILED,
    AUTH_SUCCESSFUL,
    OPEN_FAILED_ADMINISTRATIVELY_PROHIBITED,
    OPEN_SUCCEEDED,
)

log = logging.getLogger(__name__)

#: What IOS 15 announces in its SSH identification string (some clients key off it).
SSH_VERSION = "SSH-2.0-Cisco-1.25"
#: The IOS release the version text claims.
IOS_RELEASE = "15.7(3)M8"
#: Default ``terminal length`` of an IOS vty: 24 rows (23 lines of output, then --More--).
DEFAULT_LENGTH = 24
DEFAULT_WIDTH = 80
MORE = " --More-- "
INVALID = "% Invalid input detected at '^' marker."
INCOMPLETE = "% Incomplete command."


class _Closed(Exception):
    """The client went away, the exec timed out or the emulator is stopping."""


# --------------------------------------------------------------------------------------
# What the show commands derive from the running-config
# --------------------------------------------------------------------------------------


def config_hostname(config_text: str) -> str | None:
    """The ``hostname`` of a running-config (the prompt IOS shows), if it sets one."""
    m = re.search(r"^hostname (\S+)\s*$", config_text, re.MULTILINE)
    return m.group(1) if m else None


def _blocks(config_text: str) -> list[tuple[str, list[str]]]:
    """Top-level lines with their indented sub-lines, ``!`` separators dropped."""
    out: list[tuple[str, list[str]]] = []
    for raw in config_text.splitlines():
        line = raw.rstrip()
        if not line or line.startswith("!"):
            continue
        if line.startswith(" ") and out:
            out[-1][1].append(line.strip())
        elif not line.startswith(" "):
            out.append((line, []))
    return out


def _short_port(name: str) -> str:
    """``GigabitEthernet4`` → ``Gi4``, as the VLAN table abbreviates ports."""
    for long, short in (("GigabitEthernet", "Gi"), ("FastEthernet", "Fa"),
                        ("TenGigabitEthernet", "Te"), ("Ethernet", "Et")):
        if name.startswith(long):
            return short + name[len(long):]
    return name


def _vlan_ids(spec: str) -> list[int]:
    """``10,20-22`` → ``[10, 20, 21, 22]`` (the ``vlan`` command accepts lists and ranges)."""
    ids: list[int] = []
    for part in spec.split(","):
        lo, _, hi = part.partition("-")
        if lo.isdigit() and (not hi or hi.isdigit()):
            ids.extend(range(int(lo), int(hi or lo) + 1))
    return ids


def vlan_table(config_text: str) -> str | None:
    """``show vlan-switch brief`` for the config, or None when it has no VLAN at all (the
    command then does not exist on such a router, as on an 800 without a switch).

    VLANs come from ``vlan N`` (with its ``name``), ``interface VlanN`` and
    ``switchport access vlan N``; a switch port is a physical Ethernet with a ``switchport``
    line or no ``ip address`` line; trunk ports are not listed, as on IOS.
    """
    names: dict[int, str] = {}
    ports: dict[int, list[str]] = {}
    seen = False
    for head, subs in _blocks(config_text):
        m = re.fullmatch(r"vlan ([\d,-]+)", head)
        if m:
            seen = True
            ids = _vlan_ids(m.group(1))
            name = next((s.split(None, 1)[1] for s in subs
                         if s.startswith("name ") and len(s.split()) > 1), None)
            for vid in ids:
                names.setdefault(vid, "")
                if name and len(ids) == 1:
                    names[vid] = name
            continue
        m = re.fullmatch(r"interface Vlan(\d+)", head)
        if m:
            seen = True
            names.setdefault(int(m.group(1)), "")
            continue
        m = re.fullmatch(r"interface ((?:Gigabit|Fast|TenGigabit)?Ethernet[\d/]+)", head)
        if not m:
            continue
        switchport = [s for s in subs if s.startswith("switchport")]
        routed = any(s.startswith(("ip address", "no ip address")) for s in subs)
        if switchport:
            seen = True
        if routed and not switchport:
            continue
        if any(s == "switchport mode trunk" for s in subs):
            continue
        vid = 1
        for s in switchport:
            mm = re.fullmatch(r"switchport access vlan (\d+)", s)
            if mm:
                vid = int(mm.group(1))
        names.setdefault(vid, "")
        ports.setdefault(vid, []).append(_short_port(m.group(1)))
    if not seen:
        return None
    names.setdefault(1, "default")
    rows = ["VLAN Name                             Status    Ports",
            "---- -------------------------------- --------- -------------------------------"]
    for vid in sorted(names):
        name = names[vid] or ("default" if vid == 1 else f"VLAN{vid:04d}")
        cells: list[str] = []
        current = ""
        for port in ports.get(vid, []):
            piece = port if not current else f"{current}, {port}"
            if current and len(piece) > 31:
                cells.append(current + ",")
                current = port
            else:
                current = piece
        if current:
            cells.append(current)
        rows.append(f"{vid:<4} {name[:32]:<32} {'active':<9} {cells[0] if cells else ''}"
                    .rstrip())
        rows.extend(" " * 48 + more for more in cells[1:])
    for vid, name in ((1002, "fddi-default"), (1003, "token-ring-default"),
                      (1004, "fddinet-default"), (1005, "trnet-default")):
        rows.append(f"{vid:<4} {name:<32} act/unsup")
    return "\n".join(rows) + "\n"


def _interface_address(config_text: str, interface: str) -> str | None:
    """The primary IPv4 address of ``interface`` (None for dhcp/negotiated or unknown)."""
    for head, subs in _blocks(config_text):
        if head == f"interface {interface}":
            for s in subs:
                m = re.fullmatch(r"ip address (\d+\.\d+\.\d+\.\d+) \S+", s)
                if m:
                    return m.group(1)
    return None


def nat_translations(config_text: str) -> str:
    """``show ip nat translations``: the static entries of the config (a lab router has no
    live dynamic flows worth inventing). Port statics on an interface show its address."""
    rows: list[tuple[str, str, str]] = []
    for head, _subs in _blocks(config_text):
        words = head.split()
        if words[:5] != ["ip", "nat", "inside", "source", "static"]:
            continue
        args = [w for w in words[5:] if w not in ("extendable", "no-alias", "no-payload")]
        if len(args) >= 5 and args[0] in ("tcp", "udp"):
            proto, local, lport = args[0], args[1], args[2]
            if args[3] == "interface" and len(args) >= 6:
                glob = _interface_address(config_text, args[4])
                gport = args[5]
            else:
                glob, gport = args[3], args[4]
            if glob is not None:
                rows.append((proto, f"{glob}:{gport}", f"{local}:{lport}"))
        elif len(args) >= 2 and args[0] != "network":
            try:
                ipaddress.IPv4Address(args[0])
                ipaddress.IPv4Address(args[1])
            except ValueError:
                continue
            rows.append(("---", args[1], args[0]))
    lines = ["Pro Inside global         Inside local          Outside local         "
             "Outside global"]
    lines.extend(f"{pro:<4}{glob:<22}{local:<22}{'---':<22}---" for pro, glob, local in rows)
    return "\n".join(lines) + "\n"


def _uptime(seconds: float) -> str:
    minutes = int(seconds // 60)
    parts: list[str] = []
    for unit, size in (("week", 7 * 24 * 60), ("day", 24 * 60), ("hour", 60)):
        n, minutes = divmod(minutes, size)
        if n:
            parts.append(f"{n} {unit}{'s' if n != 1 else ''}")
    parts.append(f"{minutes} minute{'s' if minutes != 1 else ''}")
    return ", ".join(parts)


def version_text(hostname: str, model: str, uptime_seconds: float) -> str:
    """``show version`` of a C800 on IOS 15.7: the model line is what inventories parse."""
    return f"""\
Cisco IOS Software, C800 Software (C800-UNIVERSALK9-M), Version {IOS_RELEASE}, \
RELEASE SOFTWARE (fc2)
Technical Support: http://www.cisco.com/techsupport
Copyright (c) 1986-2021 by Cisco Systems, Inc.
Compiled Thu 08-Apr-21 10:33 by prod_rel_team


ROM: System Bootstrap, Version 15.4(1r)T1, RELEASE SOFTWARE (fc1)

{hostname} uptime is {_uptime(uptime_seconds)}
System returned to ROM by power-on
System image file is "flash:c800-universalk9-mz.SPA.157-3.M8.bin"
Last reload type: Normal Reload
Last reload reason: power-on



This product contains cryptographic features and is subject to United
States and local country laws governing import, export, transfer and
use. Delivery of Cisco cryptographic products does not imply
third-party authority to import, export, distribute or use encryption.
Importers, exporters, distributors and users are responsible for
compliance with U.S. and local country laws. By using this product you
agree to comply with applicable laws and regulations. If you are unable
to comply with U.S. and local laws, return this product immediately.

A summary of U.S. laws governing Cisco cryptographic products may be found at:
http://www.cisco.com/wwl/export/crypto/tool/stqrg.html

If you require further assistance please contact us by sending email to
export@cisco.com.

Cisco {model} (revision 1.0) with 488524K/35763K bytes of memory.
Processor board ID FGL2231X0AB
1 Virtual Ethernet interface
1 FastEthernet interface
10 Gigabit Ethernet interfaces
1 terminal line
DRAM configuration is 32 bits wide
255K bytes of non-volatile configuration memory.
3921919K bytes of USB Flash usbflash0 (Read/Write)
250880K bytes of ATA System Flash (Read/Write)


License Info:

License UDI:

-------------------------------------------------
Device#   PID                   SN
-------------------------------------------------
*0        {model:<21} FGL2231X0AB



Technology Package License Information for Module:'c800'

-----------------------------------------------------------------
Technology    Technology-package           Technology-package
              Current       Type           Next reboot
------------------------------------------------------------------
advipservices advipservices  Permanent      advipservices

Configuration register is 0x2102

"""


def _filter(lines: list[str], verb: str, pattern: re.Pattern[str]) -> list[str]:
    """IOS output modifiers (``| include``, ``| exclude``, ``| begin``, ``| section``,
    ``| count``): the audit may narrow ``show running-config`` the way a technician would."""
    if verb == "include":
        return [x for x in lines if pattern.search(x)]
    if verb == "exclude":
        return [x for x in lines if not pattern.search(x)]
    if verb == "begin":
        for i, x in enumerate(lines):
            if pattern.search(x):
                return lines[i:]
        return []
    if verb == "count":
        hits = sum(1 for x in lines if pattern.search(x))
        return [f"Number of lines which match regexp = {hits}"]
    out: list[str] = []  # section: matching top-level lines with their indented children
    keep = False
    for x in lines:
        if x.startswith(" "):
            if keep:
                out.append(x)
            continue
        keep = bool(pattern.search(x))
        if keep:
            out.append(x)
    return out


# --------------------------------------------------------------------------------------
# The command tree and its IOS-style parser
# --------------------------------------------------------------------------------------

Handler = Callable[["_CliSession", list[str]], str]


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


class _CommandTree:
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


def _show_run(session: _CliSession, _args: list[str]) -> str:
    cfg = session.emulator.config_text
    size = len(cfg.encode())
    body = cfg if cfg.endswith("\n") else cfg + "\n"
    return f"Building configuration...\n\nCurrent configuration : {size} bytes\n{body}\n"


def _show_version(session: _CliSession, _args: list[str]) -> str:
    emu = session.emulator
    return version_text(emu.hostname, emu.model, time.monotonic() - emu.started_at)


def _show_vlan(session: _CliSession, _args: list[str]) -> str:
    return vlan_table(session.emulator.config_text) or ""


def _show_nat(session: _CliSession, _args: list[str]) -> str:
    return nat_translations(session.emulator.config_text)


def _show_clock(_session: _CliSession, _args: list[str]) -> str:
    now = datetime.now()
    return now.strftime("%H:%M:%S.") + f"{now.microsecond // 1000:03d} CET " + \
        now.strftime("%a %b %d %Y") + "\n"


def _show_privilege(session: _CliSession, _args: list[str]) -> str:
    return f"Current privilege level is {session.priv}\n"


def _terminal_length(session: _CliSession, args: list[str]) -> str:
    session.length = int(args[0])
    return ""


def _terminal_width(session: _CliSession, args: list[str]) -> str:
    session.width = int(args[0])
    return ""


def _noop(_session: _CliSession, _args: list[str]) -> str:
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


def _build_tree(has_vlans: bool) -> _CommandTree:
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
        "disable": _Node(handler=_CliSession.cmd_disable),
        "enable": _Node(handler=_CliSession.cmd_enable),
        "exit": _Node(handler=_CliSession.cmd_exit),
        "logout": _Node(handler=_CliSession.cmd_exit),
        "quit": _Node(handler=_CliSession.cmd_exit),
        "show": show,
        "terminal": terminal,
    })
    _decoys(root, _EXEC_DECOYS)
    return _CommandTree(root)


# --------------------------------------------------------------------------------------
# One interactive session (the vty)
# --------------------------------------------------------------------------------------


class _CliSession:
    """The exec process of one vty: reads keystrokes, echoes them, runs commands, pages."""

    EXEC_TIMEOUT = 600.0  # IOS ``exec-timeout 10 0`` default
    PASSWORD_TIMEOUT = 30.0  # IOS gives up on the enable ``Password:`` prompt after 30 s

    def __init__(self, emulator: IosEmulator, channel: paramiko.Channel) -> None:
        self.emulator = emulator
        self.channel = channel
        self.priv = 1
        self.length = DEFAULT_LENGTH
        self.width = DEFAULT_WIDTH
        self._pending: deque[str] = deque()
        self._out: list[str] = []
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._after_cr = False
        self._done = False

    @property
    def prompt(self) -> str:
        return self.emulator.hostname + ("#" if self.priv >= 15 else ">")

    # ---- terminal I/O ------------------------------------------------------------------

    def _send(self, text: str) -> None:
        self._out.append(text)

    def _flush(self) -> None:
        if self._out:
            data = "".join(self._out).encode()
            self._out.clear()
            try:
                self.channel.sendall(data)
            except OSError as exc:
                raise _Closed from exc

    def _getc(self, timeout: float) -> str | None:
        """Next typed character (None on timeout). A ``\\n`` right after ``\\r`` is one Enter,
        as a terminal's CR LF is."""
        deadline = time.monotonic() + timeout
        while True:
            while self._pending:
                c = self._pending.popleft()
                if self._after_cr and c == "\n":
                    self._after_cr = False
                    continue
                self._after_cr = c == "\r"
                return c
            self._flush()
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            if self.emulator.stopping:
                raise _Closed
            self.channel.settimeout(min(0.25, left))
            try:
                data = self.channel.recv(4096)
            except TimeoutError:
                continue
            except OSError as exc:
                raise _Closed from exc
            if not data:
                raise _Closed
            self._pending.extend(self._decoder.decode(data))

    def _readline(self, echo: bool, timeout: float) -> str | None:
        """One line of input with IOS line editing (backspace, ^U, ^C); None on timeout."""
        buf: list[str] = []
        while True:
            c = self._getc(timeout)
            if c is None:
                return None
            if c in "\r\n":
                self._send("\r\n")
                return "".join(buf)
            if c in "\x08\x7f":
                if buf:
                    buf.pop()
                    if echo:
                        self._send("\b \b")
            elif c == "\x15":  # ^U: erase the line
                if echo:
                    self._send("\b \b" * len(buf))
                buf.clear()
            elif c == "\x03":  # ^C: abandon the line
                self._send("^C\r\n" if echo else "\r\n")
                return ""
            elif c == "\x1b":  # arrow keys and other escape sequences: ignored
                nxt = self._getc(0.05)
                if nxt == "[":
                    self._getc(0.05)
            elif c == "\t" or c >= " ":
                buf.append(" " if c == "\t" else c)
                if echo:
                    self._send(buf[-1])

    def _page(self, text: str) -> bool:
        """Print ``text`` as IOS does: CR LF line ends, ``--More--`` every screen unless
        ``terminal length 0``. False when the user quit at a ``--More--``."""
        lines = text.split("\n")
        if lines and lines[-1] == "":
            lines.pop()
        screen = max(1, self.length - 1) if self.length > 0 else 0
        shown = 0
        erase = "\b" * len(MORE) + " " * len(MORE) + "\b" * len(MORE)
        for line in lines:
            if screen and shown >= screen:
                self._send(MORE)
                key = self._getc(self.EXEC_TIMEOUT)
                self._send(erase)
                if key == " ":
                    shown = 0
                elif key in ("\r", "\n"):
                    shown = screen - 1
                else:
                    return False
            self._send(line + "\r\n")
            shown += 1
        return True

    # ---- commands ----------------------------------------------------------------------

    def cmd_enable(self, _args: list[str]) -> str:
        """``enable``: asks for the enable secret, like IOS with ``aaa authentication enable
        default enable`` (a wrong one is ``% Access denied``, back at ``>``)."""
        if self.priv >= 15:
            return ""
        self._send("Password: ")
        typed = self._readline(echo=False, timeout=self.PASSWORD_TIMEOUT)
        if typed is None:
            return "\n% Password:  timeout expired!\n% Access denied\n\n"
        if self.emulator.check_enable(typed):
            self.priv = 15
            return ""
        return "% Access denied\n\n"

    def cmd_disable(self, _args: list[str]) -> str:
        self.priv = 1
        return ""

    def cmd_exit(self, _args: list[str]) -> str:
        self._done = True
        return ""

    def run(self) -> None:
        """The exec loop: prompt, read a line, run it, until exit, EOF or the exec timeout."""
        self._send("\r\n" + self.prompt)
        try:
            while not self._done:
                line = self._readline(echo=True, timeout=self.EXEC_TIMEOUT)
                if line is None:
                    self._send("\r\n")
                    break
                self._execute(line)
                if not self._done:
                    self._flush()
            self._flush()
        except _Closed:
            return
        finally:
            with contextlib.suppress(OSError):
                self.channel.close()

    def _execute(self, line: str) -> None:
        if not line.strip():
            self._send(self.prompt)
            return
        parsed = self.emulator.tree.parse(line, self.priv, len(self.prompt))
        if parsed.error:
            self._page(parsed.error)
            self._send(self.prompt)
            return
        if parsed.handler is None:
            self._send(self.prompt)
            return
        output = parsed.handler(self, parsed.args)
        if self._done:
            return
        if parsed.pipe is not None:
            verb, regex = parsed.pipe
            try:
                pattern = re.compile(regex)
            except re.error:
                pattern = re.compile(re.escape(regex))
            kept = _filter(output.split("\n"), verb, pattern)
            output = "\n".join(kept) + ("\n" if kept else "")
        self._page(output)  # after a quit at --More-- the cursor is back at column 0 too
        self._send(self.prompt)


# --------------------------------------------------------------------------------------
# The SSH server
# --------------------------------------------------------------------------------------


class _SshServer(paramiko.ServerInterface):
    """Password authentication and one interactive shell per connection, as IOS offers."""

    def __init__(self, emulator: IosEmulator) -> None:
        self.emulator = emulator
        self.shell_requested = threading.Event()

    def get_allowed_auths(self, username: str) -> str:
        return "password"

    def check_auth_password(self, username: str, password: str) -> int:
        if self.emulator.check_login(username, password):
            return AUTH_SUCCESSFUL
        log.info("ios emulator: failed login for user %r", username)
        return AUTH_FAILED

    def check_channel_request(self, kind: str, chanid: int) -> int:
        if kind == "session":
            return OPEN_SUCCEEDED
        return OPEN_FAILED_ADMINISTRATIVELY_PROHIBITED

    def check_channel_pty_request(self, channel: paramiko.Channel, term: bytes, width: int,
                                  height: int, pixelwidth: int, pixelheight: int,
                                  modes: bytes) -> bool:
        return True  # IOS keeps its own terminal length/width whatever the client asks

    def check_channel_window_change_request(self, channel: paramiko.Channel, width: int,
                                            height: int, pixelwidth: int,
                                            pixelheight: int) -> bool:
        return True

    def check_channel_shell_request(self, channel: paramiko.Channel) -> bool:
        self.shell_requested.set()
        return True


class IosEmulator:
    """An IOS 800-series router CLI on ``host:port`` (``port=0`` picks a free port; read
    :attr:`port` after :meth:`start`).

    ``config_text`` is what ``show running-config`` prints after its header, byte for byte,
    so audits can cite its line numbers. The host key is a fresh in-memory RSA 2048 key.
    """

    LOGIN_GRACE = 120.0  # IOS ``ip ssh time-out`` default: seconds to authenticate

    def __init__(self, *, host: str, port: int, username: str, password: str,
                 enable_secret: str, config_text: str, hostname: str | None = None,
                 model: str = "C891F-K9") -> None:
        self.host = host
        self.port = port
        self.username = username
        self._password = password.encode()
        self._enable_secret = enable_secret.encode()
        self.config_text = config_text
        self.hostname = hostname or config_hostname(config_text) or "Router"
        self.model = model
        self.tree = _build_tree(vlan_table(config_text) is not None)
        self.started_at = time.monotonic()
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._sock: socket.socket | None = None
        self._accept_thread: threading.Thread | None = None
        self._workers: list[threading.Thread] = []
        self._transports: set[paramiko.Transport] = set()
        self._host_key: paramiko.RSAKey | None = None

    def __repr__(self) -> str:
        return (f"IosEmulator(host={self.host!r}, port={self.port}, "
                f"username={self.username!r}, hostname={self.hostname!r})")

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    def check_login(self, username: str, password: str) -> bool:
        """Constant-time check of the vty credentials (both compared, always)."""
        user_ok = hmac.compare_digest(username.encode(), self.username.encode())
        pass_ok = hmac.compare_digest(password.encode(), self._password)
        return user_ok and pass_ok

    def check_enable(self, secret: str) -> bool:
        return hmac.compare_digest(secret.encode(), self._enable_secret)

    # ---- lifecycle ---------------------------------------------------------------------

    def start(self) -> None:
        """Generate the host key, bind, and serve from a background thread; returns once the
        socket listens."""
        if self._sock is not None:
            raise RuntimeError("IosEmulator already started")
        self._stop.clear()
        self._host_key = paramiko.RSAKey.generate(2048)
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((self.host, self.port))
            sock.listen(16)
        except OSError:
            sock.close()
            raise
        sock.settimeout(0.2)
        self._sock = sock
        self.port = sock.getsockname()[1]
        self.started_at = time.monotonic()
        self._accept_thread = threading.Thread(target=self._accept_loop, daemon=True,
                                               name=f"ios-emu-{self.port}-accept")
        self._accept_thread.start()
        log.info("ios emulator %s listening on %s:%d", self.hostname, self.host, self.port)

    def stop(self) -> None:
        """Close the listener and every session, and wait for the threads to end."""
        self._stop.set()
        sock, self._sock = self._sock, None
        if sock is not None:
            sock.close()
        if self._accept_thread is not None:
            self._accept_thread.join(timeout=5)
            self._accept_thread = None
        with self._lock:
            transports = list(self._transports)
            workers = list(self._workers)
        for t in transports:
            t.close()
        for w in workers:
            w.join(timeout=5)
        with self._lock:
            self._workers = [w for w in self._workers if w.is_alive()]

    def __enter__(self) -> IosEmulator:
        self.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()

    def _accept_loop(self) -> None:
        while not self._stop.is_set():
            sock = self._sock
            if sock is None:
                break
            try:
                conn, peer = sock.accept()
            except TimeoutError:
                continue
            except OSError:
                break
            worker = threading.Thread(target=self._serve, args=(conn, peer), daemon=True,
                                      name=f"ios-emu-{self.port}-vty-{peer[1]}")
            with self._lock:
                self._workers = [w for w in self._workers if w.is_alive()]
                self._workers.append(worker)
            worker.start()

    def _serve(self, conn: socket.socket, peer: tuple[str, int]) -> None:
        """One SSH connection: key exchange, authentication, then the exec session."""
        assert self._host_key is not None
        transport = paramiko.Transport(conn)
        transport.local_version = SSH_VERSION
        transport.add_server_key(self._host_key)
        server = _SshServer(self)
        with self._lock:
            self._transports.add(transport)
        try:
            transport.start_server(server=server)
            channel: paramiko.Channel | None = None
            deadline = time.monotonic() + self.LOGIN_GRACE
            while (channel is None and transport.is_active() and not self._stop.is_set()
                   and time.monotonic() < deadline):
                channel = transport.accept(timeout=0.2)
            if channel is None:
                return
            deadline = time.monotonic() + 10
            while not server.shell_requested.wait(0.2):
                if self._stop.is_set() or time.monotonic() > deadline:
                    channel.close()
                    return
            log.info("ios emulator: session from %s:%d", peer[0], peer[1])
            _CliSession(self, channel).run()
        except (paramiko.SSHException, EOFError, OSError) as exc:
            log.debug("ios emulator: connection from %s ended: %s", peer[0], exc)
        finally:
            transport.close()
            with self._lock:
                self._transports.discard(transport)


# --------------------------------------------------------------------------------------
# CLI
# --------------------------------------------------------------------------------------


def _listen(value: str) -> tuple[str, int]:
    host, sep, port = value.rpartition(":")
    if not sep or not port.isdigit():
        raise argparse.ArgumentTypeError("expected IP:PORT, e.g. 127.0.0.1:2222")
    return host.strip("[]") or "0.0.0.0", int(port)


def main(argv: Sequence[str] | None = None) -> int:
    """Serve one fixture until SIGINT/SIGTERM. Secrets come from ``IOS_EMU_PASSWORD`` and
    ``IOS_EMU_SECRET`` only, so they never show in ``ps`` or shell history."""
    parser = argparse.ArgumentParser(
        prog="python -m harness.lab.ios_emulator",
        description="Cisco IOS 800-series CLI emulator over SSH (password from "
                    "IOS_EMU_PASSWORD, enable secret from IOS_EMU_SECRET)")
    parser.add_argument("--listen", type=_listen, required=True, metavar="IP:PORT")
    parser.add_argument("--config", required=True, metavar="FILE",
                        help="running-config text that show running-config prints")
    parser.add_argument("--username", required=True)
    parser.add_argument("--hostname", help="prompt name (default: the config's hostname)")
    parser.add_argument("--model", default="C891F-K9", help="model in show version")
    args = parser.parse_args(argv)
    password = os.environ.get("IOS_EMU_PASSWORD")
    secret = os.environ.get("IOS_EMU_SECRET")
    if not password or not secret:
        parser.error("set IOS_EMU_PASSWORD and IOS_EMU_SECRET in the environment")
    with open(args.config, encoding="utf-8") as fh:
        config_text = fh.read()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    host, port = args.listen
    emu = IosEmulator(host=host, port=port, username=args.username, password=password,
                      enable_secret=secret, config_text=config_text, hostname=args.hostname,
                      model=args.model)
    done = threading.Event()

    def _stop(_signum: int, _frame: FrameType | None) -> None:
        done.set()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    emu.start()
    print(f"ios emulator {emu.hostname} ({emu.model}) listening on {host}:{emu.port}",
          flush=True)
    try:
        while not done.wait(1.0):
            pass
    finally:
        emu.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
