"""The attacker's SIP moves against the requester (``POST /sip-moves``): what a toll-fraud
attacker does once a scan found SIP on the site's public address.

Three moves per (port, transport) the request names, in the order an attacker makes them:

1. an OPTIONS, as ``svmap`` sends it: a 2xx is a PBX answering the internet;
2. an unauthenticated INVITE, from a made-up caller, to an international number: anything but
   silence, a challenge or a final refusal is the door toll fraud goes through. Whatever it
   gets, the probe ends it: CANCEL after a provisional answer, ACK and BYE after a 2xx, ACK
   after a non-2xx final. The SDP offers a discard port and the probe never sends media;
3. a REGISTER for each user the request names (the site's own accounts and extensions, which
   the agent knows) and as many users the probe makes up itself (nine random digits), all
   without credentials, as ``svwar`` does: a difference in the answers tells the attacker
   which users exist. REGISTER rather than INVITE to the extensions: an INVITE to a real
   extension rings a real phone.

The number must be international (``00`` or ``+``, then 8 to 15 digits) AND of a range that
connects nowhere, so that a site that does route the call cannot cost anyone anything: the
ITU's spare country codes 280-289 (E.164 reserves them, no operator routes them) and the
shared codes for international networks 882 and 883 (as the issue asks; the agent's default
is in 28x, :data:`sip_checks.sip_from_outside.NUMBER`).

Abuse is designed out as for ``/scan``: the only address is the requester's (no field names
another; a reply's Contact or Record-Route is never followed: the ACK and BYE go where the
INVITE went), at most :data:`MAX_PORTS` ports and :data:`MAX_USERS` users, a per-exchange
timeout and a deadline, answers cut and password lines replaced before they leave.

Core module: the standard library only (and :mod:`harness.probe.scan`'s helpers).
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import hashlib
import json
import re
import secrets
import socket
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from harness.probe.scan import printable, redact, results_digest

KIND_SIP_MOVES = "sip-moves"  # an attestation of the attacker's SIP moves
MAX_PORTS = 6  # (port, transport) pairs: SIP's 5060, 5080, 5160 on UDP and TCP
MAX_USERS = 16  # users named by the request (as many are made up beside them)
TIMEOUT_S = (0.3, 4.0, 1.5)  # per exchange: least, most, default
DEADLINE_S = (2.0, 25.0, 15.0)  # the whole: least, most, default (a client waits 30 s)
CANCEL_WAIT_S = 1.0  # after a CANCEL, how long the 487 (or a late 2xx) is awaited
MAX_MESSAGE = 1500  # characters of one message kept in an exchange
MAX_EXCHANGE = 6000  # characters of one move's exchange
T1 = 0.5  # RFC 3261's first retransmission interval (UDP)
FIELDS = frozenset({"ports", "users", "number", "timeout_s", "deadline_s", "site", "target"})
USER = re.compile(r"^[A-Za-z0-9._+\-]{1,32}$")
NUMBER = re.compile(r"^(?:\+|00)(\d{8,15})$")
NOWHERE = ("28", "882", "883")  # after + or 00: spare country codes, international networks
MADE_UP_DIGITS = 9


class Refused(ValueError):
    """A request the probe will not play (its one-line reason goes back as a 400)."""


@dataclass(frozen=True)
class Request:
    ports: list[tuple[int, str]]
    users: list[str]
    number: str
    timeout: float
    deadline: float
    site: str | None


def _seconds(req: dict[str, Any], name: str, bounds: tuple[float, float, float]) -> float:
    lo, hi, default = bounds
    value = req.get(name, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or not lo <= value <= hi:
        raise Refused(f"{name} must be a number of seconds from {lo} to {hi}")
    return float(value)


def international(number: object) -> str:
    """``number`` once it is international and of a range that connects nowhere."""
    m = NUMBER.match(number) if isinstance(number, str) else None
    if m is None:
        raise Refused("number must be international: 00 or + then 8 to 15 digits")
    if not m.group(1).startswith(NOWHERE):
        raise Refused("number must be in a range that connects nowhere: country code "
                      "280-289 (spare) or 882/883 (international networks)")
    return str(number)


def parse_request(req: dict[str, Any], max_site: int = 200) -> Request:
    """A request's ports, users, number, timeouts and site, bounded; a field the probe does
    not know is refused, so that no field, under any name, points the moves elsewhere."""
    unknown = sorted(set(req) - FIELDS)
    if unknown:
        raise Refused(f"unknown field {unknown[0][:40]!r}: the moves only go to the "
                      "requester's own address")
    raw = req.get("ports")
    if not isinstance(raw, list) or not 0 < len(raw) <= MAX_PORTS:
        raise Refused(f"expected ports: 1 to {MAX_PORTS} [port, \"udp\"|\"tcp\"]")
    ports: list[tuple[int, str]] = []
    for item in raw:
        if (not isinstance(item, list) or len(item) != 2 or isinstance(item[0], bool)
                or not isinstance(item[0], int) or not 0 < item[0] < 65536
                or item[1] not in ("udp", "tcp")):
            raise Refused("each port is [port 1-65535, \"udp\"|\"tcp\"]")
        if (item[0], item[1]) not in ports:
            ports.append((item[0], item[1]))
    users = req.get("users")
    if not isinstance(users, list) or not 0 < len(users) <= MAX_USERS or not all(
            isinstance(u, str) and USER.match(u) for u in users):
        raise Refused(f"expected users: 1 to {MAX_USERS} user names of letters, digits "
                      "and ._+- (at most 32 characters)")
    site = req.get("site")
    if site is not None and not (isinstance(site, str) and len(site) <= max_site):
        raise Refused(f"site must be a string of at most {max_site} characters")
    return Request(ports, list(dict.fromkeys(users)), international(req.get("number")),
                   _seconds(req, "timeout_s", TIMEOUT_S),
                   _seconds(req, "deadline_s", DEADLINE_S), site)


def made_up_users(count: int, avoid: Sequence[str]) -> list[str]:
    """``count`` users no site has: nine random digits each (not one of ``avoid``)."""
    out: list[str] = []
    while len(out) < count:
        user = str(10 ** (MADE_UP_DIGITS - 1) + secrets.randbelow(9 * 10 ** (MADE_UP_DIGITS - 1)))
        if user not in avoid and user not in out:
            out.append(user)
    return out


# -- SIP on the wire --------------------------------------------------------------------------

_COMPACT = {"i": "call-id", "f": "from", "t": "to", "v": "via", "l": "content-length",
            "m": "contact"}


@dataclass
class Reply:
    """One response as received."""

    status: int
    reason: str
    headers: dict[str, str]
    raw: bytes

    @property
    def call_id(self) -> str:
        return self.headers.get("call-id", "")

    @property
    def cseq_method(self) -> str:
        return self.headers.get("cseq", "").rpartition(" ")[2].upper()


def parse(data: bytes) -> Reply | None:
    """A SIP response's status, reason and first headers (None: not a response)."""
    head = data.split(b"\r\n\r\n", 1)[0].decode("utf-8", "replace")
    lines = head.split("\r\n")
    parts = lines[0].split(" ", 2)
    if len(parts) < 2 or parts[0] != "SIP/2.0" or not parts[1].isdigit() or len(parts[1]) != 3:
        return None
    headers: dict[str, str] = {}
    for line in lines[1:]:
        key, sep, value = line.partition(":")
        if sep:
            name = key.strip().lower()
            headers.setdefault(_COMPACT.get(name, name), value.strip())
    return Reply(int(parts[1]), parts[2] if len(parts) > 2 else "", headers, data)


def realm(reply: Reply) -> str | None:
    challenge = reply.headers.get("www-authenticate") or reply.headers.get(
        "proxy-authenticate")
    if challenge is None:
        return None
    m = re.search(r'(?i)realm\s*=\s*"([^"]*)"', challenge)
    return printable(m.group(1).encode())[:100] if m else ""


def answer_doc(reply: Reply, t0: float) -> dict[str, Any]:
    """A response kept: status line and the headers that tell a product or a realm."""
    server = reply.headers.get("server") or reply.headers.get("user-agent")
    return {"status": reply.status, "reason": printable(reply.reason.encode())[:100],
            "server": printable(server.encode())[:200] if server else None,
            "realm": realm(reply), "ms": round((time.monotonic() - t0) * 1000, 1)}


class Channel:
    """One transport to one port of the target: sends, and hands each response to the move
    whose Call-ID it carries. UDP from one socket (as svwar does), TCP on one connection."""

    def __init__(self, transport: str, source: str, target: tuple[str, int]) -> None:
        self.transport = transport
        self.source = source
        self.target = target
        self.local: tuple[str, int] = (source, 0)
        self.queues: dict[str, asyncio.Queue[Reply]] = {}
        self.sock: socket.socket | None = None
        self.writer: asyncio.StreamWriter | None = None
        self.reader_task: asyncio.Task[None] | None = None
        self.failed: str | None = None  # closed, filtered, or an error's name
        self.wire = hashlib.sha256()

    async def open(self, timeout: float) -> str | None:
        """Connect (TCP) or bind (UDP); ``closed``/``filtered``/an errno name when not."""
        loop = asyncio.get_running_loop()
        if self.transport == "udp":
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            s.setblocking(False)
            s.bind((self.source, 0))
            s.connect(self.target)  # an ICMP port unreachable comes back as ECONNREFUSED
            self.sock = s
            self.local = s.getsockname()
            self.reader_task = asyncio.ensure_future(self._read_udp(loop, s))
            return None
        try:
            reader, writer = await asyncio.wait_for(asyncio.open_connection(
                self.target[0], self.target[1], local_addr=(self.source, 0)), timeout)
        except TimeoutError:
            return "filtered"
        except ConnectionRefusedError:
            return "closed"
        except OSError as exc:
            return errno.errorcode.get(exc.errno or 0, type(exc).__name__)
        self.writer = writer
        self.local = writer.get_extra_info("sockname")[:2]
        self.reader_task = asyncio.ensure_future(self._read_tcp(reader))
        return None

    def register(self, call_id: str) -> asyncio.Queue[Reply]:
        q: asyncio.Queue[Reply] = asyncio.Queue()
        self.queues[call_id] = q
        return q

    def _deliver(self, data: bytes) -> None:
        self.wire.update(b"<" + data)
        reply = parse(data)
        if reply is not None and reply.call_id in self.queues:
            self.queues[reply.call_id].put_nowait(reply)
        # requests from the target (a BYE, a re-INVITE) and strangers' answers: not kept

    async def _read_udp(self, loop: asyncio.AbstractEventLoop, s: socket.socket) -> None:
        while True:
            try:
                data = await loop.sock_recv(s, 65535)
            except ConnectionRefusedError:
                self.failed = "closed"
                continue
            except OSError as exc:
                self.failed = errno.errorcode.get(exc.errno or 0, type(exc).__name__)
                continue
            self._deliver(data)

    async def _read_tcp(self, reader: asyncio.StreamReader) -> None:
        buf = b""
        while True:
            chunk = await reader.read(65535)
            if not chunk:
                return
            buf += chunk
            while b"\r\n\r\n" in buf:
                head, _, rest = buf.partition(b"\r\n\r\n")
                m = re.search(rb"(?im)^(?:content-length|l)\s*:\s*(\d{1,6})\s*$", head)
                length = int(m.group(1)) if m else 0
                if len(rest) < length:
                    break
                self._deliver(head + b"\r\n\r\n" + rest[:length])
                buf = rest[length:]
            if len(buf) > 262144:  # no framing in sight: not SIP
                return

    def send(self, data: bytes) -> None:
        self.wire.update(b">" + data)
        if self.sock is not None:
            with contextlib.suppress(OSError):  # ECONNREFUSED from an earlier ICMP
                self.sock.send(data)
        elif self.writer is not None:
            self.writer.write(data)

    async def close(self) -> None:
        if self.reader_task is not None:
            self.reader_task.cancel()
        if self.sock is not None:
            self.sock.close()
        if self.writer is not None:
            self.writer.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.writer.wait_closed(), 0.5)


@dataclass
class Move:
    """One move and what it got; filled as it goes, so a deadline leaves what was seen."""

    port: int
    transport: str
    move: str  # options, register, invite
    user: str | None = None  # the REGISTER's user or the INVITE's number
    made_up: bool = False  # a user the probe made up (no site has it)
    answers: list[dict[str, Any]] = field(default_factory=list)
    state: str = "silent"  # answered, silent, closed, filtered, or an errno name
    ended: str = ""  # how the probe ended an INVITE: "cancel", "ack", "ack+bye", ""
    ended_with: list[int] = field(default_factory=list)  # the answers to CANCEL/BYE
    exchange: list[str] = field(default_factory=list)
    complete: bool = False

    def doc(self) -> dict[str, Any]:
        text = "\n".join(self.exchange)
        return {"port": self.port, "transport": self.transport, "move": self.move,
                "user": self.user, "made_up": self.made_up, "answers": self.answers,
                "state": self.state, "ended": self.ended, "ended_with": self.ended_with,
                "exchange": text[:MAX_EXCHANGE], "complete": self.complete}

    def keep(self, direction: str, data: bytes) -> None:
        kept, _ = redact(data[:MAX_MESSAGE])
        self.exchange.append(f"{direction}\n{printable(kept)}")


class Dialogue:
    """The requests of one move: their headers, as a scanner writes them."""

    def __init__(self, ch: Channel, user_from: str, user_to: str, uri: str) -> None:
        self.ch = ch
        self.call_id = f"{secrets.token_hex(8)}@{ch.local[0]}"
        self.tag = secrets.token_hex(4)
        self.user_from, self.user_to, self.uri = user_from, user_to, uri
        self.cseq = 0

    def request(self, method: str, *, uri: str | None = None, to_tag: str = "",
                cseq: int | None = None, branch: str | None = None, body: str = "",
                ctype: str = "") -> tuple[bytes, str]:
        """The request's bytes and its Via branch."""
        host, port = self.ch.local[0], self.ch.local[1]
        target = self.ch.target[0]
        if cseq is None:
            self.cseq += 1
            cseq = self.cseq
        branch = branch or f"z9hG4bK{secrets.token_hex(6)}"
        text = (f"{method} {uri or self.uri} SIP/2.0\r\n"
                f"Via: SIP/2.0/{self.ch.transport.upper()} {host}:{port};branch={branch};rport\r\n"
                "Max-Forwards: 70\r\n"
                f"From: <sip:{self.user_from}@{target}>;tag={self.tag}\r\n"
                f"To: <sip:{self.user_to}@{target}>{';tag=' + to_tag if to_tag else ''}\r\n"
                f"Call-ID: {self.call_id}\r\n"
                f"CSeq: {cseq} {method}\r\n"
                f"Contact: <sip:{self.user_from}@{host}:{port};transport={self.ch.transport}>\r\n"
                "User-Agent: recette-probe\r\n"
                + (f"Content-Type: {ctype}\r\n" if ctype else "")
                + f"Content-Length: {len(body.encode())}\r\n\r\n{body}")
        return text.encode(), branch


async def _exchange(ch: Channel, mv: Move, q: asyncio.Queue[Reply], data: bytes,
                    method: str, timeout: float, t0: float) -> list[Reply]:
    """Send ``data`` (retransmitted on UDP until an answer) and collect its method's
    responses until a final one or ``timeout`` of silence after the last."""
    got: list[Reply] = []
    mv.keep(f"> {ch.transport} {ch.target[0]}:{ch.target[1]}", data)
    ch.send(data)
    end = time.monotonic() + timeout
    resend = time.monotonic() + T1
    while (left := end - time.monotonic()) > 0:
        wait = min(left, max(resend - time.monotonic(), 0.01)) if ch.transport == "udp" \
            and not got else left
        try:
            reply = await asyncio.wait_for(q.get(), wait)
        except TimeoutError:
            if ch.transport == "udp" and not got and time.monotonic() >= resend:
                ch.send(data)
                resend = time.monotonic() + 2 * T1
            continue
        if reply.cseq_method != method:
            continue
        mv.keep("<", reply.raw)
        got.append(reply)
        if method == mv.move.upper():
            mv.answers.append(answer_doc(reply, t0))
            mv.state = "answered"
        if reply.status >= 200:
            break
        end = max(end, time.monotonic() + timeout)  # a provisional: the final may take time
        if method == "INVITE":
            break  # the caller decides what follows a provisional
    return got


async def options(ch: Channel, mv: Move, timeout: float) -> None:
    d = Dialogue(ch, "recette", "recette", f"sip:{ch.target[0]}:{ch.target[1]}")
    q = ch.register(d.call_id)
    data, _ = d.request("OPTIONS")
    await _exchange(ch, mv, q, data, "OPTIONS", timeout, time.monotonic())
    mv.complete = True


async def register(ch: Channel, mv: Move, timeout: float) -> None:
    assert mv.user is not None
    d = Dialogue(ch, mv.user, mv.user, f"sip:{ch.target[0]}:{ch.target[1]}")
    q = ch.register(d.call_id)
    data, _ = d.request("REGISTER")
    await _exchange(ch, mv, q, data, "REGISTER", timeout, time.monotonic())
    mv.complete = True


def _sdp(host: str) -> str:
    """An offer to the discard port: the probe never sends or reads media."""
    return (f"v=0\r\no=- 1 1 IN IP4 {host}\r\ns=-\r\nc=IN IP4 {host}\r\nt=0 0\r\n"
            "m=audio 9 RTP/AVP 8 0\r\na=rtpmap:8 PCMA/8000\r\na=rtpmap:0 PCMU/8000\r\n"
            "a=sendrecv\r\n")


def _to_tag(reply: Reply) -> str:
    m = re.search(r";\s*tag=([^;>\s]+)", reply.headers.get("to", ""))
    return m.group(1) if m else ""


async def invite(ch: Channel, mv: Move, caller: str, timeout: float) -> None:
    """The unauthenticated international INVITE, then its end (CANCEL, ACK, ACK and BYE)."""
    assert mv.user is not None
    number = mv.user
    d = Dialogue(ch, caller, number, f"sip:{number}@{ch.target[0]}:{ch.target[1]}")
    q = ch.register(d.call_id)
    t0 = time.monotonic()
    data, branch = d.request("INVITE", body=_sdp(ch.local[0]), ctype="application/sdp")
    got = await _exchange(ch, mv, q, data, "INVITE", timeout, t0)
    final = next((r for r in got if r.status >= 200), None)
    if final is None and got:
        # A provisional: the final answer is awaited a while (a routed call rings, a refusal
        # comes back from the operator), then the call is cancelled.
        final = await _more(ch, mv, q, timeout, t0)
        if final is None:
            mv.ended = "cancel"
            cancel, _ = d.request("CANCEL", cseq=1, branch=branch)
            mv.keep(">", cancel)
            ch.send(cancel)
            final = await _after_cancel(ch, mv, q, t0)
    if final is not None:
        await _end(ch, mv, d, q, final, branch, timeout)
    mv.complete = True


async def _more(ch: Channel, mv: Move, q: asyncio.Queue[Reply], timeout: float, t0: float
                ) -> Reply | None:
    """More answers to the INVITE within ``timeout`` of the last; its final one, or None."""
    end = time.monotonic() + timeout
    while (left := end - time.monotonic()) > 0:
        try:
            reply = await asyncio.wait_for(q.get(), left)
        except TimeoutError:
            return None
        if reply.cseq_method != "INVITE":
            continue
        mv.keep("<", reply.raw)
        mv.answers.append(answer_doc(reply, t0))
        if reply.status >= 200:
            return reply
        end = time.monotonic() + timeout
    return None


async def _after_cancel(ch: Channel, mv: Move, q: asyncio.Queue[Reply], t0: float
                        ) -> Reply | None:
    """The CANCEL's answer and the INVITE's final one (487, or a 2xx that crossed it)."""
    end = time.monotonic() + CANCEL_WAIT_S
    final: Reply | None = None
    while final is None and (left := end - time.monotonic()) > 0:
        try:
            reply = await asyncio.wait_for(q.get(), left)
        except TimeoutError:
            break
        mv.keep("<", reply.raw)
        if reply.cseq_method == "CANCEL":
            mv.ended_with.append(reply.status)
        elif reply.cseq_method == "INVITE":
            mv.answers.append(answer_doc(reply, t0))
            if reply.status >= 200:
                final = reply
    return final


async def _end(ch: Channel, mv: Move, d: Dialogue, q: asyncio.Queue[Reply], final: Reply,
               branch: str, timeout: float) -> None:
    """ACK the final answer (a non-2xx in its transaction, a 2xx in a new one), then BYE an
    answered call. Always to the INVITE's destination: a Contact is never followed."""
    tag = _to_tag(final)
    if final.status >= 300:
        ack, _ = d.request("ACK", to_tag=tag, cseq=1, branch=branch)
        mv.keep(">", ack)
        ch.send(ack)
        mv.ended = mv.ended or "ack"
        return
    ack, _ = d.request("ACK", to_tag=tag, cseq=1)
    mv.keep(">", ack)
    ch.send(ack)
    bye, _ = d.request("BYE", to_tag=tag, cseq=2)
    mv.ended = "ack+bye"
    got = await _exchange(ch, mv, q, bye, "BYE", timeout, time.monotonic())
    mv.ended_with.extend(r.status for r in got if r.status >= 200)


# -- the whole --------------------------------------------------------------------------------

async def _port(port: int, transport: str, source: str, target: str, users: Sequence[str],
                made_up: Sequence[str], number: str, caller: str, timeout: float,
                moves: list[Move], wire: dict[tuple[int, str], str]) -> None:
    ch = Channel(transport, source, (target, port))
    opt = Move(port, transport, "options")
    inv = Move(port, transport, "invite", user=number)
    regs = [Move(port, transport, "register", user=u) for u in users] + [
        Move(port, transport, "register", user=u, made_up=True) for u in made_up]
    mine = [opt, inv, *regs]
    moves.extend(mine)
    try:
        failed = await ch.open(timeout)
        if failed is not None:
            for mv in mine:
                mv.state, mv.complete = failed, True
            return
        # All at once, each by its own Call-ID: on a silent site the moves cost one
        # exchange's timeout, not three in a row (the demo's critical path, issue 25).
        await asyncio.gather(options(ch, opt, timeout), invite(ch, inv, caller, timeout),
                             *(register(ch, mv, timeout) for mv in regs))
        if ch.failed and not any(mv.answers for mv in mine):
            for mv in mine:
                mv.state = ch.failed
    finally:
        wire[port, transport] = ch.wire.hexdigest()
        await ch.close()


async def _play(req: Request, source: str, target: str, made_up: Sequence[str], caller: str,
                moves: list[Move], wire: dict[tuple[int, str], str]) -> None:
    tasks = [asyncio.ensure_future(_port(p, t, source, target, req.users, made_up,
                                         req.number, caller, req.timeout, moves, wire))
             for p, t in req.ports]
    _, pending = await asyncio.wait(tasks, timeout=req.deadline)
    for task in pending:
        task.cancel()
    if pending:
        await asyncio.wait(pending, timeout=1.0)


def play(source: str, target: str, req: Request) -> dict[str, Any]:
    """Every port at once, its moves in order, within the request's deadline: the results
    (what each move got), the made-up users and caller, the digest of every byte sent and
    received per port, and the seconds taken. A move the deadline cut keeps what it saw,
    with ``complete`` false."""
    made_up = made_up_users(len(req.users), req.users)
    caller = made_up_users(1, [*req.users, *made_up])[0]
    moves: list[Move] = []
    wire: dict[tuple[int, str], str] = {}
    t0 = time.monotonic()
    asyncio.run(_play(req, source, target, made_up, caller, moves, wire))
    order = {key: i for i, key in enumerate(req.ports)}
    moves.sort(key=lambda m: order[m.port, m.transport])
    return {"results": [m.doc() for m in moves], "made_up": made_up, "caller": caller,
            "wire": {f"{p}/{t}": wire.get((p, t), "") for p, t in req.ports},
            "seconds": round(time.monotonic() - t0, 3)}


def summary(results: Sequence[dict[str, Any]], port: int, transport: str) -> str:
    """One port's moves in one short line (what the attestation says in clear)."""
    mine = [r for r in results if (r["port"], r["transport"]) == (port, transport)]

    def got(r: dict[str, Any]) -> str:
        codes = ",".join(str(a["status"]) for a in r["answers"])
        return codes or r["state"]

    def tally(rows: list[dict[str, Any]]) -> str:
        counts: dict[str, int] = {}
        for r in rows:
            counts[got(r)] = counts.get(got(r), 0) + 1
        return " ".join(f"{k}x{v}" for k, v in sorted(counts.items()))

    opt = next((got(r) for r in mine if r["move"] == "options"), "-")
    inv = next((r for r in mine if r["move"] == "invite"), None)
    regs = [r for r in mine if r["move"] == "register"]
    invite_text = f"{got(inv)} {inv['ended']}".strip() if inv else "-"
    return (f"{port}/{transport} options {opt}; invite {invite_text}; register named "
            f"{tally([r for r in regs if not r['made_up']])}, made-up "
            f"{tally([r for r in regs if r['made_up']])}")


def moves_doc(*, target: str, source: str, req: Request, played: dict[str, Any]
              ) -> dict[str, Any]:
    """The document a probe signs for one run of the moves (``probe`` is added by the
    signer): whom, from where, which ports, users and number, one line per port of what the
    moves got, the digest of the results it comes with and of every byte exchanged."""
    from harness.attest import VERSION, now_iso

    results = played["results"]
    wire = json.dumps(played["wire"], sort_keys=True, separators=(",", ":"))
    return {"v": VERSION, "kind": KIND_SIP_MOVES, "at": now_iso(), "target": target,
            "source": source, "ports": [f"{p}/{t}" for p, t in req.ports],
            "users": req.users, "made_up": played["made_up"], "number": req.number,
            "moves": [summary(results, p, t) for p, t in req.ports],
            "results": results_digest(results),
            "wire": hashlib.sha256(wire.encode()).hexdigest(),
            "seconds": played["seconds"], "site": req.site, "nonce": secrets.token_hex(8)}
