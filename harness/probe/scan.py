"""The probe's scan of its requester (``POST /scan``): which of a few ports an internet host
reaches on the site's public address, and what answers there.

Toll fraud starts with a scan: attackers look for SIP on UDP, TCP and TLS, on alternate
ports, for IAX2, H.323 and SCCP, for phone provisioning (TFTP, HTTP) and for the IPBX's or the
router's administration (HTTP, SSH, telnet). A closed port proves nothing about the others,
and an open one matters by what speaks there (a SIP answer on TCP 5060 is worse than a port
that only accepts connections), so each port gets the probe of the protocol an attacker would
try on it, and the answer's first bytes say what spoke.

Abuse is designed out as for the sweep: the only address ever scanned is the requester's (the
route has no target), the port list is short (:data:`MAX_PORTS`), each port has a timeout and
the whole scan a deadline, and every answer is cut to :data:`MAX_ANSWER` bytes with any line
that looks like a password replaced before it leaves the probe (a provisioning file is the
site's secret, not the probe's evidence to keep).

Core module: the standard library and ``cryptography`` (certificate subjects) only.
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
import ssl
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from cryptography import x509

MAX_PORTS = 64  # (port, transport) pairs in one scan
MAX_ANSWER = 4096  # bytes of an answer kept as evidence
MAX_READ = 16384  # bytes read from a port at most (a page's <title> may come late)
TIMEOUT_S = (0.2, 5.0, 1.5)  # per-port timeout: least, most, default
DEADLINE_S = (1.0, 20.0, 12.0)  # the whole scan: least, most, default (a client waits 30 s)
BANNER_S = 0.6  # how long a silent TCP port is given to speak first (SSH, telnet)
MAX_TFTP_FILES = 4
TFTP_FILES = ("000000000000.cfg",)  # Polycom's master file: the most common first guess
IP_RECVERR = 11  # <linux/in.h>: ICMP errors reach recvfrom() on an unconnected socket
KIND_SCAN = "scan"  # an attestation of a scan (harness.attest signs it like a sweep)

Transport = Literal["udp", "tcp"]
State = Literal["open", "closed", "filtered", "open|filtered"]
# The protocol probe a port gets: what an attacker sends there first.
Probe = Literal["sip", "sips", "http", "https", "tftp", "iax2", "banner"]
PROBES: tuple[Probe, ...] = ("sip", "sips", "http", "https", "tftp", "iax2", "banner")

UDP_PROBES: dict[int, Probe] = {69: "tftp", 4569: "iax2"}  # any other UDP port: SIP
TCP_PROBES: dict[int, Probe] = {
    5060: "sip", 5080: "sip", 5160: "sip", 5070: "sip",
    5061: "sips", 5081: "sips", 5161: "sips",
    80: "http", 8080: "http", 8088: "http", 8000: "http", 8081: "http",
    443: "https", 8089: "https", 8443: "https",
}  # any other TCP port (22, 23, 1720, 2000, ...): what it says on its own

# A line of an answer that names a secret: what follows the name on that line is replaced.
# Phone provisioning files spell it password, passwd, pwd, secret, authPassword, or (Grandstream)
# P34, the SIP password's parameter number.
_SECRET = re.compile(
    rb"(?i)(pass(?:word|wd|phrase)|\bpass\b|\bpwd\b|secret|\bP34\b|\bPIN\b|credential)")
REDACTED = b" [redacted]"


def default_probe(port: int, transport: Transport) -> Probe:
    """The probe an attacker's scanner would send to this port."""
    if transport == "udp":
        return UDP_PROBES.get(port, "sip")
    return TCP_PROBES.get(port, "banner")


def redact(data: bytes) -> tuple[bytes, int]:
    """``data`` with every line naming a secret cut after the name, and how many lines."""
    lines = data.split(b"\n")
    count = 0
    for i, line in enumerate(lines):
        m = _SECRET.search(line)
        if m is not None:
            lines[i] = line[:m.end()] + REDACTED
            count += 1
    return b"\n".join(lines), count


def printable(data: bytes) -> str:
    """Bytes as evidence text: UTF-8 where it is, escapes for the rest (binary protocols
    stay readable, and nothing in the text can drive a terminal)."""
    text = data.decode("utf-8", "backslashreplace")
    return "".join(c if c.isprintable() or c in "\r\n\t" else f"\\x{ord(c):02x}"
                   for c in text)


def results_digest(results: Sequence[dict[str, Any]]) -> str:
    """SHA-256 of the results as canonical JSON: what the scan's attestation signs, and what
    the agent recomputes to know the signed word is about the results it carries."""
    text = json.dumps(list(results), sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(text.encode("ascii")).hexdigest()


def scan_doc(*, target: str, source: str, ports: Sequence[tuple[int, str]],
             results: Sequence[dict[str, Any]], seconds: float, site: str | None
             ) -> dict[str, Any]:
    """The document a probe signs for one scan (``probe`` and the signature are added by
    :meth:`harness.attest.Signer.sign`): whom it scanned, from where, which ports, what it
    found open in one short line each, and the digest of the full results."""
    from harness.attest import VERSION, now_iso

    return {"v": VERSION, "kind": KIND_SCAN, "at": now_iso(), "target": target,
            "source": source, "ports": [f"{p}/{t}" for p, t in ports],
            "open": [f"{r['port']}/{r['transport']} {r['protocol'] or '?'}"
                     for r in results if r["state"] == "open"],
            "results": results_digest(results), "seconds": round(seconds, 3), "site": site,
            "nonce": secrets.token_hex(8)}


# -- what answered ----------------------------------------------------------------------------

def identify(data: bytes, probe: Probe = "banner") -> str | None:
    """The protocol an answer's first bytes speak (the binary ones only where their probe
    asked: a TFTP opcode is two bytes any banner could start with), or None."""
    if data.startswith(b"SIP/2.0 "):
        return "sip"
    if data.startswith(b"HTTP/"):
        return "http"
    if data.startswith(b"SSH-"):
        return "ssh"
    if data[:1] == b"\xff" or re.search(rb"(?i)(login|username|password)\s*:", data[:512]):
        return "telnet"
    if probe == "tftp" and len(data) >= 4 and data[:2] in (b"\x00\x03", b"\x00\x05",
                                                           b"\x00\x06"):
        return "tftp"
    if probe == "iax2" and len(data) >= 12 and data[0] & 0x80 and data[10] == 6:
        return "iax2"
    return None


def _header(data: bytes, name: bytes) -> str | None:
    head = data.split(b"\r\n\r\n", 1)[0]
    for line in head.split(b"\r\n")[1:]:
        key, sep, value = line.partition(b":")
        if sep and key.strip().lower() == name:
            return printable(value.strip())[:200]
    return None


def _first_line(data: bytes) -> str:
    return printable(data.split(b"\n", 1)[0].rstrip(b"\r"))[:200]


def _title(data: bytes) -> str | None:
    m = re.search(rb"(?is)<title[^>]*>(.*?)</title>", data)
    return printable(b" ".join(m.group(1).split()))[:200] if m else None


def _telnet_text(data: bytes) -> bytes:
    """A telnet stream without its option negotiation (IAC WILL/WONT/DO/DONT x, IAC SB ...
    IAC SE, IAC x): what a person would see, the login prompt."""
    out, i = bytearray(), 0
    while i < len(data):
        if data[i] != 0xFF:
            out.append(data[i])
            i += 1
        elif i + 1 < len(data) and 251 <= data[i + 1] <= 254:
            i += 3
        elif i + 1 < len(data) and data[i + 1] == 250:
            end = data.find(b"\xff\xf0", i + 2)
            i = len(data) if end < 0 else end + 2
        else:
            i += 2
    return bytes(out)


TFTP_OPS = {3: "DATA", 5: "ERROR", 6: "OACK"}
IAX_SUBCLASSES = {3: "PONG", 4: "ACK", 5: "HANGUP", 6: "REJECT", 0x1E: "POKE"}


def describe(protocol: str | None, data: bytes) -> dict[str, Any]:
    """The summary, server and title of one answer, per protocol."""
    out: dict[str, Any] = {"summary": _first_line(data) if data else ""}
    if protocol == "sip":
        out["server"] = _header(data, b"server") or _header(data, b"user-agent")
    elif protocol == "http":
        out["server"] = _header(data, b"server")
        out["title"] = _title(data)
    elif protocol == "tftp":
        op = int.from_bytes(data[:2], "big")
        if op == 5:
            code = int.from_bytes(data[2:4], "big")
            text = printable(data[4:].split(b"\0", 1)[0])[:200]
            out["summary"] = f"TFTP ERROR {code}: {text}"
        elif op == 3:
            out["summary"] = (f"TFTP DATA block {int.from_bytes(data[2:4], 'big')}, "
                              f"{len(data) - 4} bytes")
        else:
            out["summary"] = f"TFTP {TFTP_OPS.get(op, op)}"
    elif protocol == "iax2":
        sub = data[11] & 0x7F
        out["summary"] = f"IAX2 {IAX_SUBCLASSES.get(sub, f'control {sub}')}"
    elif protocol == "telnet" and data[:1] == b"\xff":
        said = _telnet_text(data).strip()
        out["summary"] = "telnet negotiation" + (
            f", then {_first_line(said)!r}" if said else "")
    return out


# -- what is sent -----------------------------------------------------------------------------

def sip_options(source: tuple[str, int], target: tuple[str, int], transport: str) -> bytes:
    """An OPTIONS as a scanner sends it (svmap's is the same in substance)."""
    branch, tag, call_id = (secrets.token_hex(6) for _ in range(3))
    host, port = source
    return (f"OPTIONS sip:{target[0]}:{target[1]} SIP/2.0\r\n"
            f"Via: SIP/2.0/{transport.upper()} {host}:{port};branch=z9hG4bK{branch};rport\r\n"
            "Max-Forwards: 70\r\n"
            f"From: <sip:recette@{host}>;tag={tag}\r\n"
            f"To: <sip:recette@{target[0]}>\r\n"
            f"Call-ID: {call_id}@{host}\r\n"
            "CSeq: 1 OPTIONS\r\n"
            f"Contact: <sip:recette@{host}:{port}>\r\n"
            "Accept: application/sdp\r\n"
            "User-Agent: recette-probe\r\n"
            "Content-Length: 0\r\n\r\n").encode()


def http_get(target: tuple[str, int]) -> bytes:
    return (f"GET / HTTP/1.1\r\nHost: {target[0]}:{target[1]}\r\n"
            "User-Agent: recette-probe\r\nAccept: */*\r\nConnection: close\r\n\r\n").encode()


def tftp_rrq(name: str) -> bytes:
    return b"\x00\x01" + name.encode("ascii") + b"\x00octet\x00"


SIP = b"(an OPTIONS with this socket's address)"  # _udp builds it per socket
TFTP_ABORT = b"\x00\x05\x00\x00recette: transfer not wanted\x00"


def iax2_poke() -> bytes:
    """A full IAX2 frame: source call 1, no destination, timestamp 0, control POKE."""
    return b"\x80\x01\x00\x00" + b"\x00\x00\x00\x00" + b"\x00\x00" + b"\x06\x1e"


# -- one port ---------------------------------------------------------------------------------

@dataclass
class PortResult:
    """What one port did; filled as the probe goes, so a deadline leaves what was seen."""

    port: int
    transport: Transport
    probe: Probe
    state: State = "filtered"
    protocol: str | None = None
    tls: bool = False
    tls_subject: str | None = None
    summary: str = ""
    server: str | None = None
    title: str | None = None
    answer: str = ""
    redacted: int = 0
    ms: float | None = None
    note: str = ""
    complete: bool = False

    def doc(self) -> dict[str, Any]:
        return {"port": self.port, "transport": self.transport, "probe": self.probe,
                "state": self.state, "protocol": self.protocol, "tls": self.tls,
                "tls_subject": self.tls_subject, "summary": self.summary,
                "server": self.server, "title": self.title, "answer": self.answer,
                "redacted": self.redacted, "ms": self.ms, "note": self.note,
                "complete": self.complete}

    def heard(self, data: bytes, t0: float) -> None:
        """Keep an answer: identified, described, secrets cut, bounded."""
        self.protocol = identify(data, self.probe) or self.protocol
        kept, self.redacted = redact(data[:MAX_READ])
        for k, v in describe(self.protocol, kept).items():
            setattr(self, k, v)
        self.answer = printable(kept[:MAX_ANSWER])
        self.ms = round((time.monotonic() - t0) * 1000, 1)


def _why(exc: OSError) -> str:
    """An error as its short name (``EHOSTUNREACH``, ``TLS WRONG_VERSION_NUMBER``)."""
    if isinstance(exc, ssl.SSLError):
        return f"TLS {exc.reason or type(exc).__name__}"
    return errno.errorcode.get(exc.errno or 0, type(exc).__name__)


async def _udp(r: PortResult, source: str, target: str, timeout: float,
               payloads: Sequence[bytes], labels: Sequence[str] = ()) -> None:
    """Send each payload from its own socket (twice: UDP is lost) and keep the first answer
    from the target; an ICMP port unreachable is ``closed``, silence ``open|filtered``."""
    loop = asyncio.get_running_loop()
    socks = []
    try:
        for _ in payloads:
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            s.setblocking(False)
            s.setsockopt(socket.SOL_IP, IP_RECVERR, 1)  # unconnected: TFTP answers elsewhere
            s.bind((source, 0))
            socks.append(s)
        t0 = time.monotonic()
        r.state = "open|filtered"

        async def one(s: socket.socket, payload: bytes) -> tuple[bytes, tuple[str, int]] | None:
            end = time.monotonic() + timeout
            for attempt in range(2):
                if payload == SIP:
                    payload = sip_options(s.getsockname(), (target, r.port), "udp")
                s.sendto(payload, (target, r.port))
                until = end if attempt else time.monotonic() + timeout / 2
                while (left := until - time.monotonic()) > 0:
                    try:
                        data, peer = await asyncio.wait_for(loop.sock_recvfrom(s, 65535), left)
                    except TimeoutError:
                        break
                    if peer[0] == target:
                        return data, peer
            return None

        tasks = [asyncio.ensure_future(one(s, p)) for s, p in zip(socks, payloads, strict=True)]
        best: tuple[bytes, tuple[str, int], socket.socket, int] | None = None
        try:
            for i, (s, task) in enumerate(zip(socks, tasks, strict=True)):
                try:
                    got = await task
                except ConnectionRefusedError:
                    if best is None:
                        r.state = "closed"
                    continue
                except OSError as exc:  # host/net unreachable, prohibited: filtered on the way
                    r.note = _why(exc)
                    if best is None and r.state == "open|filtered":
                        r.state = "filtered"
                    continue
                if got is not None and (best is None or got[0][:2] == b"\x00\x03"):
                    best = (got[0], got[1], s, i)  # a served file beats an error
        finally:
            for task in tasks:
                task.cancel()
        if best is not None:
            data, peer, s, i = best
            r.state = "open"
            r.heard(data, t0)
            if i < len(labels):
                r.summary += f" ({labels[i]})"
            if r.probe == "tftp" and data[:2] == b"\x00\x03":
                with contextlib.suppress(OSError):
                    s.sendto(TFTP_ABORT, peer)  # end the transfer the server began
        r.complete = True
    finally:
        for s in socks:
            s.close()


def _tls_context() -> ssl.SSLContext:
    """A scanner's TLS: any certificate, any name (what is kept is who the site says it is)."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    with contextlib.suppress(ssl.SSLError):
        ctx.set_ciphers("DEFAULT:@SECLEVEL=0")  # an old IPBX's certificate is still evidence
    return ctx


def _subject(writer: asyncio.StreamWriter) -> str | None:
    obj = writer.get_extra_info("ssl_object")
    der = obj.getpeercert(binary_form=True) if obj is not None else None
    if not der:
        return None
    try:
        return x509.load_der_x509_certificate(der).subject.rfc4514_string()[:300]
    except ValueError:
        return "(unreadable certificate)"


async def _read(reader: asyncio.StreamReader, timeout: float, until: bytes | None
                ) -> bytes:
    """What the port says within ``timeout`` (up to :data:`MAX_READ` bytes); stops early at
    end of stream or once ``until`` (a header/body boundary) arrived."""
    data = b""
    end = time.monotonic() + timeout
    while len(data) < MAX_READ and (left := end - time.monotonic()) > 0:
        try:
            chunk = await asyncio.wait_for(reader.read(MAX_READ - len(data)), left)
        except TimeoutError:
            break
        except (OSError, ssl.SSLError):
            break
        if not chunk:
            break
        data += chunk
        if until is not None and until in data:
            break
    return data


async def _tcp(r: PortResult, source: str, target: str, timeout: float) -> None:
    """Connect (refused: ``closed``; no answer: ``filtered``), then speak as the probe says:
    TLS first on the TLS ports (the certificate's subject kept; a port that refuses TLS is
    probed again in clear: an admin page on 443, SIP over TCP on 5061), then the SIP OPTIONS
    or the HTTP GET, or nothing, keeping what the port says on its own (SSH, telnet)."""
    t0 = time.monotonic()
    try:
        reader, writer = await asyncio.wait_for(asyncio.open_connection(
            target, r.port, local_addr=(source, 0)), timeout)
    except TimeoutError:
        r.complete = True
        return
    except ConnectionRefusedError:
        r.state, r.complete = "closed", True
        return
    except OSError as exc:  # host/net unreachable, prohibited: filtered on the way
        r.note, r.complete = _why(exc), True
        return
    r.state = "open"
    try:
        if r.probe in ("sips", "https"):
            try:
                await asyncio.wait_for(writer.start_tls(
                    _tls_context(), server_hostname="", ssl_handshake_timeout=timeout),
                    timeout + 0.5)
                r.tls, r.tls_subject, r.protocol = True, _subject(writer), "tls"
            except (OSError, TimeoutError, asyncio.IncompleteReadError) as exc:
                r.note = f"no TLS ({_why(exc) if isinstance(exc, OSError) else 'handshake'})"
                writer.close()
                r.probe = "sip" if r.probe == "sips" else "http"
                return await _tcp(r, source, target, timeout)
        data = await _speak(r, reader, writer, target, timeout)
        if data:
            r.heard(data, t0)
        r.complete = True
    except OSError as exc:
        r.note, r.complete = _why(exc), True
    finally:
        writer.close()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(writer.wait_closed(), 0.5)


async def _speak(r: PortResult, reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                 target: str, timeout: float) -> bytes:
    """Send the port's probe on an open connection and read the answer."""
    if r.probe == "banner":
        # A daemon that speaks first (SSH, telnet) does it at once; one that waits is asked
        # as a web server is, the commonest thing on an IPBX's other ports.
        said = await _read(reader, min(timeout, BANNER_S), b"\n")
        if said:
            return said
        writer.write(http_get((target, r.port)))
        await writer.drain()
        return await _read(reader, timeout, b"</title>")
    if r.probe in ("sip", "sips"):
        local = writer.get_extra_info("sockname")
        writer.write(sip_options((local[0], local[1]), (target, r.port),
                                 "tls" if r.tls else "tcp"))
        until = b"\r\n\r\n"
    else:
        writer.write(http_get((target, r.port)))
        until = b"</title>"
    await writer.drain()
    return await _read(reader, timeout, until)


async def _port(r: PortResult, source: str, target: str, timeout: float,
                tftp_files: Sequence[str]) -> None:
    if r.transport == "tcp":
        await _tcp(r, source, target, timeout)
        return
    labels: list[str] = []
    if r.probe == "tftp":
        payloads = [tftp_rrq(f) for f in tftp_files]
        labels = [f"read request for {f}" for f in tftp_files]
    elif r.probe == "iax2":
        payloads = [iax2_poke()]
    else:
        payloads = [SIP]  # built per socket, with its own address in Via
    await _udp(r, source, target, timeout, payloads, labels)


async def _scan(results: list[PortResult], source: str, target: str, timeout: float,
                deadline: float, tftp_files: Sequence[str]) -> None:
    tasks = [asyncio.ensure_future(_port(r, source, target, timeout, tftp_files))
             for r in results]
    done, pending = await asyncio.wait(tasks, timeout=deadline)
    for task in pending:
        task.cancel()
    if pending:
        await asyncio.wait(pending, timeout=1.0)
    for task in done:
        exc = task.exception()
        if exc is not None:  # a probe's own fault: the port stays incomplete, with why
            r = results[tasks.index(task)]
            r.note = r.note or f"probe error ({type(exc).__name__})"
            r.complete = False


def scan(source: str, target: str, ports: Sequence[tuple[int, Transport, Probe]], *,
         timeout: float, deadline: float, tftp_files: Sequence[str] = TFTP_FILES
         ) -> tuple[list[dict[str, Any]], float]:
    """Every port at once, each within ``timeout`` (per exchange), the whole within
    ``deadline``; the results in the order asked, and the seconds taken. A port the deadline
    cut keeps what was seen, with ``complete`` false."""
    results = [PortResult(p, t, probe) for p, t, probe in ports]
    t0 = time.monotonic()
    asyncio.run(_scan(results, source, target, timeout, deadline, tftp_files))
    return [r.doc() for r in results], time.monotonic() - t0
