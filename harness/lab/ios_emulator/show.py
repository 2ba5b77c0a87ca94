"""What the emulator's ``show`` commands print, derived from the running-config it serves.

Why apart from the CLI: these are plain functions of the configuration text (the VLAN
table of an 800 with a switch, the NAT table its static translations make, the version
text), testable without SSH and the part most likely to grow as the audit asks more of the
device.
"""

from __future__ import annotations

import ipaddress
import re

#: The IOS release the version text claims.
IOS_RELEASE = "15.7(3)M8"


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
