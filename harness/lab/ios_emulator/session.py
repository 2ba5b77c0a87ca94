"""One interactive IOS session (a vty): keystrokes, echo, line editing, prompts, paging and
the ``| include``-style output modifiers.

Why apart: this is the terminal behaviour netmiko's driver depends on (echo of what it
types, ``HOST>``/``HOST#`` prompts, ``--More--`` until ``terminal length 0``), independent
of which commands exist (:mod:`.commands`) and of SSH (:mod:`.server`).
"""

from __future__ import annotations

import codecs
import contextlib
import re
import time
from collections import deque
from typing import TYPE_CHECKING

import paramiko

if TYPE_CHECKING:
    from harness.lab.ios_emulator.server import IosEmulator

#: Default ``terminal length`` of an IOS vty: 24 rows (23 lines of output, then --More--).
DEFAULT_LENGTH = 24
DEFAULT_WIDTH = 80
MORE = " --More-- "


class Closed(Exception):
    """The client went away, the exec timed out or the emulator is stopping."""


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


class CliSession:
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
                raise Closed from exc

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
                raise Closed
            self.channel.settimeout(min(0.25, left))
            try:
                data = self.channel.recv(4096)
            except TimeoutError:
                continue
            except OSError as exc:
                raise Closed from exc
            if not data:
                raise Closed
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
        except Closed:
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

