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

The package, by part: :mod:`.show` (what ``show`` prints, from the config),
:mod:`.commands` (the command tree and IOS's parser), :mod:`.session` (one vty),
:mod:`.server` (SSH and the emulator's lifecycle), ``__main__`` (the command line).
"""

from __future__ import annotations

from harness.lab.ios_emulator.server import IosEmulator
from harness.lab.ios_emulator.show import (
    config_hostname,
    nat_translations,
    version_text,
    vlan_table,
)

__all__ = ["IosEmulator", "config_hostname", "nat_translations", "version_text", "vlan_table"]
