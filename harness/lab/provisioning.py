"""The lab IPBX's phone provisioning: a TFTP server (tftpd-hpa) with Yealink-style files.

IPBXs hand their phones a configuration file by TFTP, and a phone's file holds its SIP
password in clear: a provisioning server reachable from the internet gives an attacker the
credentials to place calls. The lab's reception phone is registered directly on the
operator's Centrex account ``centrex101``, so its file carries that account's password: a
secret the lab profile knows, so a check that fetches the file can prove the leak by it and
its evidence is redacted like every profile secret.
"""

from __future__ import annotations

import shutil
import subprocess
import time
from pathlib import Path

from harness import netns
from harness.errors import LabError
from harness.lab.procs import udp_bound
from harness.lab.profile import lab_password
from harness.lab.state import lab_dir
from harness.lab.topology import PBX_HOST, SIP_DOMAIN, ns

PORT = 69
COMMON_FILE = "y000000000000.cfg"  # what every Yealink phone asks for first
PHONE_MAC = "001565a1b2c3"  # the reception phone (Yealink's OUI 00:15:65)
PHONE_FILE = f"{PHONE_MAC}.cfg"
PHONE_ACCOUNT = "centrex101"  # the lab profile's first Centrex account


def folder(prefix: str) -> Path:
    return lab_dir(prefix) / "tftp"


def pidfile(prefix: str) -> Path:
    return lab_dir(prefix) / "ipbx-tftpd.pid"


def files(prefix: str) -> dict[str, str]:
    """The provisioning files by name: the common one (no secret) and the reception phone's
    (the Centrex account's password in clear, as phones need it)."""
    common = (
        "#!version:1.0.0.1\n"
        f"## Common configuration, served by the IPBX {PBX_HOST}\n"
        "local_time.time_zone = +1\n"
        "local_time.ntp_server1 = pool.ntp.org\n"
        f"auto_provision.server.url = tftp://{PBX_HOST}/\n"
    )
    phone = (
        "#!version:1.0.0.1\n"
        f"## Reception phone {PHONE_MAC}\n"
        "account.1.enable = 1\n"
        "account.1.label = Accueil\n"
        "account.1.display_name = Accueil\n"
        f"account.1.auth_name = {PHONE_ACCOUNT}\n"
        f"account.1.user_name = {PHONE_ACCOUNT}\n"
        f"account.1.password = {lab_password(prefix, PHONE_ACCOUNT)}\n"
        f"account.1.sip_server.1.address = {SIP_DOMAIN}\n"
        "account.1.sip_server.1.port = 5060\n"
    )
    return {COMMON_FILE: common, PHONE_FILE: phone}


def start(prefix: str, timeout: float = 5.0) -> None:
    """Write the files (0600 in a 0700 folder: root's tftpd reads them, no one else) and run
    tftpd-hpa in the foreground in ``lan`` on the IPBX's address; wait for its port."""
    root = folder(prefix)
    root.mkdir(mode=0o700, exist_ok=True)
    for name, text in files(prefix).items():
        path = root / name
        path.write_text(text)
        path.chmod(0o600)
    tftpd = shutil.which("in.tftpd") or "/usr/sbin/in.tftpd"
    state_dir = lab_dir(prefix)
    log = open(state_dir / "ipbx-tftpd.log", "ab")  # noqa: SIM115 - handed to the daemon
    with log:
        # -L: standalone in the foreground; -s: chrooted to the folder; -p with -u root: the
        # files need not be world-readable (they hold a password).
        proc = netns.popen(ns(prefix, "lan"),
                           [tftpd, "-L", "-a", f"{PBX_HOST}:{PORT}", "-s", "-p", "-u", "root",
                            str(root)],
                           stdout=log, stderr=log, stdin=subprocess.DEVNULL)
    pidfile(prefix).write_text(str(proc.pid))
    deadline = time.monotonic() + timeout
    while not udp_bound(ns(prefix, "lan"), str(PBX_HOST), PORT):
        if proc.poll() is not None or time.monotonic() > deadline:
            raise LabError(f"tftpd did not start on {PBX_HOST}:{PORT}: see "
                           f"{state_dir / 'ipbx-tftpd.log'}")
        time.sleep(0.02)
