"""``python -m harness.lab.ios_emulator``: serve one running-config until killed.

Secrets come from the environment, never from the command line (see :func:`main`).
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import threading
from collections.abc import Sequence
from types import FrameType

from harness.lab.ios_emulator.server import IosEmulator


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
