"""Soak: the outsider probe against the internet, in the field lab.

The field lab's outsider probe runs the systemd unit's command line (``deploy/``), as on an
integrator's VM. The site's agent sits on the voice LAN behind the lab's router (NAT, and the
kernel's SIP ALG unless ``--no-alg``), and the operator's Kamailio is the registrar of the NAT
trial. From eight scanner addresses on the lab's internet router, in separate processes:
scanner OPTIONS datagrams (about 0.9 kB) to UDP 5060 and 5088, 300 slow HTTP clients on the
control port, unframed bytes to TCP 5060 and 5088, junk HTTP (oversized headers, negative and
non-numeric Content-Length, garbage), replayed and forged signed requests. Meanwhile the agent
times signed requests (``/whoami``, and an ``/expect`` + SIP OPTIONS + ``/received`` round),
then runs the ALG probes and the NAT mapping measurement through the probe, which must say
what they said on the idle probe.

With ``--tls`` the outsider probe is served over HTTPS as the unit's drop-in runs it
(``deploy/recette-probe-https.conf``: its command line, the certificate and key where
``LoadCredential=`` puts them), the agent pins the certificate, and the HTTP loads speak TLS:
half the slow clients trickle their header inside TLS, half stall in a partial ClientHello
(the handshake timeout must cut them); junk HTTP inside TLS, plus plaintext HTTP and raw
garbage to the TLS port; replays and forgeries over HTTPS.

    .venv/bin/python bench/probe_soak.py [--scale 1.0] [--rate 50000] [--no-alg] [--tls]

``--scale 1`` is the issue's load (1 000 000 datagrams, 100 MB of TCP); ``--scale 0.05``
runs in about a minute. Prints one JSON document with the figures; exit 1 if the probe's
memory ended over 100 MB, an agent request took over 1 s, or a verdict changed.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import resource
import secrets
import selectors
import shlex
import shutil
import signal
import socket
import ssl
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from ipaddress import IPv4Address
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from harness import netns
from harness.lab import Lab
from harness.lab.procs import exists, tcp_listening
from harness.lab.profile import lab_password
from harness.lab.topology import OUTSIDER, PROBE_PORT, VOICE_HOST
from harness.probe import cert, deploy
from harness.probe.client import ProbeClient
from harness.probe.server import AUTH_HEADER, sign
from harness.profile import VantagePoint
from sip_checks.probes.nat import Registrar, registrar_of

VM, SITE = str(OUTSIDER), str(VOICE_HOST)  # the probe; the agent, behind the site's NAT
# RFC 2544 benchmarking addresses: reserved, routed nowhere, so no scanner can be mistaken
# for a real host; they live on the lab's internet router, the probe reaches them by its route
SCANNERS = [f"198.18.1.{i}" for i in range(2, 10)]
PORT = PROBE_PORT
SIP_PORTS = (5060, 5088)
MAX_RSS_MB = 100.0
MAX_ANSWER_S = 1.0


# -- the loads (each runs as `probe_soak.py --role NAME ...` in the "net" namespace) ----------

def scanner(total: int, rate: float) -> dict[str, Any]:
    socks = []
    for ip in SCANNERS:
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind((ip, 0))
        socks.append(s)
    pad = "x" * 600
    t0, sent, errors = time.monotonic(), 0, 0
    for i in range(total):
        port = SIP_PORTS[i & 1]
        msg = (f"OPTIONS sip:100@{VM}:{port} SIP/2.0\r\n"
               f"Via: SIP/2.0/UDP 198.18.1.2:5060;branch=z9hG4bK{i}\r\n"
               f"From: \"sipvicious\" <sip:100@1.1.1.1>;tag={i}\r\nTo: <sip:100@1.1.1.1>\r\n"
               f"Call-ID: {i}-scan\r\nCSeq: 1 OPTIONS\r\nUser-Agent: friendly-scanner\r\n"
               f"X-Pad: {pad}\r\nContent-Length: 0\r\n\r\n").encode()
        try:
            socks[i % len(socks)].sendto(msg, (VM, port))
            sent += 1
        except OSError:
            errors += 1
            time.sleep(0.001)
        if i % 1000 == 0 and (ahead := sent / rate - (time.monotonic() - t0)) > 0:
            time.sleep(ahead)
    return {"sent": sent, "send_errors": errors, "seconds": round(time.monotonic() - t0, 1)}


def attacker_tls() -> ssl.SSLContext:
    """What a scanner speaks TLS with: no verification (it pins nothing)."""
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


def partial_client_hello() -> bytes:
    """The first half of a real ClientHello: a client that starts a handshake and stalls."""
    incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
    obj = attacker_tls().wrap_bio(incoming, outgoing)
    with contextlib.suppress(ssl.SSLWantReadError):
        obj.do_handshake()
    hello = outgoing.read()
    return hello[:len(hello) // 2]


def _spread(ages: list[float]) -> dict[str, float] | None:
    if not ages:
        return None
    return {"min": round(min(ages), 1), "median": round(statistics.median(ages), 1),
            "max": round(max(ages), 1)}


def slow_http(clients: int, seconds: float, tls: bool = False) -> dict[str, Any]:
    """Clients trickling a header a byte a second; reconnect when the probe closes them.

    With ``tls``, even clients complete the handshake and trickle inside TLS, odd ones send
    half a ClientHello and stall. How long each connection lived before the probe closed it
    (``cut_after_s``) tells which limit cut it: the handshake timeout or the lifetime."""
    ctx = attacker_tls()
    hello = partial_client_hello()
    header = b"POST /whoami HTTP/1.1\r\nHost: probe\r\n"
    kinds = [("tls_trickle" if i % 2 == 0 else "partial_hello") if tls else "trickle"
             for i in range(clients)]
    stats: dict[str, dict[str, Any]] = {
        k: {"clients": kinds.count(k), "closed_by_probe": 0, "reconnects": 0,
            "answered": 0, "cut_after_s": []} for k in dict.fromkeys(kinds)}
    sel = selectors.DefaultSelector()
    conns: list[socket.socket | None] = [None] * clients
    opened = [0.0] * clients
    answered = [False] * clients

    def connect(i: int) -> None:
        raw = socket.socket()
        s: socket.socket = raw
        try:
            raw.bind((SCANNERS[i % len(SCANNERS)], 0))
            raw.settimeout(5)
            raw.connect((VM, PORT))
            if kinds[i] == "partial_hello":
                raw.sendall(hello)
            else:
                if kinds[i] == "tls_trickle":
                    s = ctx.wrap_socket(raw)
                s.sendall(header)
            s.setblocking(False)
        except OSError:
            s.close()
            return
        conns[i], opened[i], answered[i] = s, time.monotonic(), False
        sel.register(s, selectors.EVENT_READ, i)

    def cut(i: int) -> None:
        s = conns[i]
        if s is not None:
            st = stats[kinds[i]]
            st["closed_by_probe"] += 1
            st["cut_after_s"].append(time.monotonic() - opened[i])
            sel.unregister(s)
            s.close()
            conns[i] = None

    for i in range(clients):
        connect(i)
    end = time.monotonic() + seconds
    next_byte = time.monotonic() + 1.0
    while time.monotonic() < end:
        for key, _ in sel.select(timeout=0.2):
            i = key.data
            s = conns[i]
            assert s is not None
            try:
                data = s.recv(4096)
            except (ssl.SSLWantReadError, ssl.SSLWantWriteError, BlockingIOError):
                continue  # a TLS 1.3 session ticket, no application data
            except OSError:
                data = b""
            if data:  # the probe said something (an error page, an alert) and may close
                stats[kinds[i]]["answered"] += not answered[i]
                answered[i] = True
                continue
            cut(i)
        if time.monotonic() < next_byte:
            continue
        next_byte += 1.0
        for i in range(clients):
            s = conns[i]
            if s is None:
                stats[kinds[i]]["reconnects"] += 1
                connect(i)
                continue
            if kinds[i] == "partial_hello":
                continue  # it stalls: only the handshake timeout ends it
            try:
                s.send(b"X")
            except (ssl.SSLWantReadError, ssl.SSLWantWriteError, BlockingIOError):
                pass
            except OSError:
                cut(i)
    for s in conns:
        if s is not None:
            s.close()
    for st in stats.values():
        st["cut_after_s"] = _spread(st["cut_after_s"])
    out: dict[str, Any] = {"clients": clients,
                           "closed_by_probe": sum(st["closed_by_probe"] for st in stats.values()),
                           "reconnects": sum(st["reconnects"] for st in stats.values())}
    if tls:
        out["halves"] = stats
    else:
        out["cut_after_s"] = stats["trickle"]["cut_after_s"]
        out["answered"] = stats["trickle"]["answered"]
    return out


def unframed_tcp(total: int) -> dict[str, Any]:
    """Bytes with no SIP framing to TCP 5060/5088, four streams at once, until ``total``."""
    lock = threading.Lock()
    state = {"offered": 0, "accepted": 0, "connections": 0, "refused": 0}
    chunk = os.urandom(65536).replace(b"\r\n", b"ab")

    def stream(k: int) -> None:
        while True:
            with lock:
                if state["offered"] >= total:
                    return
                state["connections"] += 1
            try:
                s = socket.socket()
                s.bind((SCANNERS[k], 0))
                s.settimeout(5)
                s.connect((VM, SIP_PORTS[k & 1]))
            except OSError:
                with lock:
                    state["refused"] += 1
                time.sleep(0.05)
                continue
            with s:
                while True:
                    with lock:
                        if state["offered"] >= total:
                            return
                        state["offered"] += len(chunk)
                    try:
                        n = s.send(chunk)
                    except OSError:
                        break
                    with lock:
                        state["accepted"] += n
    threads = [threading.Thread(target=stream, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return state


JUNK = [("big-header", b"GET /health HTTP/1.1\r\nHost: p\r\nX-J: " + b"j" * 20000 + b"\r\n\r\n"),
        ("length-negative", b"POST /whoami HTTP/1.1\r\nHost: p\r\nContent-Length: -1\r\n\r\n"),
        ("length-text", b"POST /whoami HTTP/1.1\r\nHost: p\r\nContent-Length: abc\r\n\r\n"),
        ("garbage", b"\x16\x03\x01\x00\xa5\x01\x00\x00\xa1garbage\r\n\r\n"),
        ("many-headers", b"GET / HTTP/1.1\r\n" + b"X: y\r\n" * 500 + b"\r\n")]
# to a TLS port without TLS: an old agent or a scanner speaking plain HTTP, and noise
RAW_ON_TLS = [("plain-http", b"GET /health HTTP/1.1\r\nHost: p\r\n\r\n"),
              ("raw-garbage", bytes(range(256)) * 4)]


def junk_http(seconds: float, tls: bool = False) -> dict[str, Any]:
    """Malformed requests, one a connection; with ``tls`` inside TLS (a scanner completing
    the handshake), plus plaintext HTTP and raw bytes to the TLS port."""
    ctx = attacker_tls()
    kinds = ([(f"tls:{n}", p, True) for n, p in JUNK] + [(f"raw:{n}", p, False)
                                                          for n, p in RAW_ON_TLS]
             if tls else [(n, p, False) for n, p in JUNK])
    answers: dict[str, int] = {}
    by_kind: dict[str, dict[str, int]] = {name: {} for name, _, _ in kinds}
    end = time.monotonic() + seconds
    i = 0
    while time.monotonic() < end:
        name, payload, wrap = kinds[i % len(kinds)]
        s: socket.socket | None = None
        try:
            s = socket.create_connection((VM, PORT), timeout=15)
            if wrap:
                s = ctx.wrap_socket(s)
            s.sendall(payload)
            head = s.recv(64)
            key = (head.split(b" ", 2)[1].decode() if head.startswith(b"HTTP/")
                   else "bytes" if head else "closed")
        except TimeoutError:
            key = "timeout"
        except ssl.SSLError:
            key = "tls-error"
        except ConnectionResetError:
            key = "reset"
        except OSError:
            key = "closed"
        finally:
            if s is not None:
                s.close()
        answers[key] = answers.get(key, 0) + 1
        by_kind[name][key] = by_kind[name].get(key, 0) + 1
        i += 1
        time.sleep(0.02)
    return {"requests": i, "answers": answers, "by_kind": by_kind}


def replay_forge(seconds: float, captured: str, tls: bool = False) -> dict[str, Any]:
    """A request captured from the agent, sent again; and requests signed with a wrong key
    (over HTTPS with ``tls``, verifying nothing)."""
    cap = json.loads(captured)
    scheme, ctx = ("https", attacker_tls()) if tls else ("http", None)
    answers: dict[str, int] = {}
    end = time.monotonic() + seconds
    i = 0
    while time.monotonic() < end:
        if i % 2:
            headers, body = {AUTH_HEADER: cap["auth"]}, cap["body"].encode()
        else:
            ts, nonce = f"{time.time():.3f}", secrets.token_hex(8)
            body = b'{"target": "192.0.2.1"}'
            headers = {AUTH_HEADER: f"{ts}.{nonce}."
                                    f"{sign(os.urandom(32), ts, nonce, 'POST', '/sweep', body)}"}
        req = urllib.request.Request(f"{scheme}://{VM}:{PORT}" + ("/whoami" if i % 2 else
                                                                  "/sweep"),
                                     data=body, headers=headers)
        try:
            with urllib.request.urlopen(req, timeout=10, context=ctx) as r:
                key = str(r.status)
        except urllib.error.HTTPError as exc:
            key = str(exc.code)
        except OSError:
            key = "error"
        answers[key] = answers.get(key, 0) + 1
        i += 1
        time.sleep(0.05)
    return {"requests": i, "answers": answers}


ROLES = {"scanner": lambda a: scanner(a.total, a.rate),
         "slow": lambda a: slow_http(a.clients, a.seconds, a.tls),
         "tcp": lambda a: unframed_tcp(a.total),
         "junk": lambda a: junk_http(a.seconds, a.tls),
         "replay": lambda a: replay_forge(a.seconds, a.captured, a.tls)}


# -- the bench ----------------------------------------------------------------------------------

def rss_mb(pid: int) -> tuple[float, float]:
    """(VmRSS, VmHWM) of the probe process in MB."""
    fields = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text()
                  .splitlines() if ":" in line)
    return (int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024)


def probe_pid(ns: str) -> int:
    from harness.lab.procs import ns_pids

    for pid in ns_pids(ns):
        cmd = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        if b"probe" in cmd and b"serve" in cmd:
            return pid
    raise RuntimeError("no probe process in the namespace")


def health(client: ProbeClient) -> dict[str, Any]:
    scheme = "https" if client.tls is not None else "http"
    with urllib.request.urlopen(f"{scheme}://{client.host}:{client.port}/health", timeout=5,
                                context=client.tls) as r:
        doc: dict[str, Any] = json.loads(r.read())
    return doc


def timed(fn: Any, *args: Any) -> float:
    t0 = time.monotonic()
    fn(*args)
    return time.monotonic() - t0


def sip_round(client: ProbeClient) -> None:
    """The reflector's round as the ALG check does it: announce, send, read back."""
    cid = f"{secrets.token_hex(8)}@{SITE}"
    client.expect(cid)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind((SITE, 0))
        msg = (f"OPTIONS sip:p@{VM}:5060 SIP/2.0\r\nVia: SIP/2.0/UDP {SITE}:1;branch=z9hG4bKa\r\n"
               f"Call-ID: {cid}\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n").encode()
        s.sendto(msg, (VM, 5060))
        deadline = time.monotonic() + 2
        while time.monotonic() < deadline:
            if client.post("/received", {"call_id": cid})["messages"]:
                return
            time.sleep(0.05)
        s.sendto(msg, (VM, 5060))  # once more, as the checks do
        while time.monotonic() < deadline + 2:
            if client.post("/received", {"call_id": cid})["messages"]:
                return
            time.sleep(0.05)
    raise RuntimeError("the agent's OPTIONS was not kept")


def verdicts(client: ProbeClient, reg: Registrar) -> dict[str, Any]:
    """The ALG probes and the NAT mapping (against the lab operator's Kamailio) through the
    probe, as the checks run them."""
    from sip_checks.probes import alg, nat

    probes = alg.run_all(client, VM, SITE, vantage="outsider")
    mapping, _ = asyncio.run(nat.measure(SITE, [("outsider", client)], reg))
    return {"alg": [alg.summary(p) for p in probes],
            "nat": {"mapping": mapping.kind,
                    "outsider_saw_the_local_port": [w.port == mapping.local_port for w in
                                                    mapping.witnesses
                                                    if w.vantage == "outsider"]}}


def agent_loop(client: ProbeClient, site_ns: str, stop: threading.Event, times: list[float],
               failures: list[str]) -> None:
    netns.enter(site_ns)
    while not stop.is_set():
        try:
            times.append(timed(client.post, "/whoami", {}))
            t0 = time.monotonic()
            sip_round(client)
            times.append(time.monotonic() - t0)
        except Exception as exc:  # a figure, not a crash: the soak goes on
            failures.append(repr(exc)[:200])
        time.sleep(0.3)


def add_scanners(lab: Lab) -> None:
    """The scanners' addresses on the lab's internet router itself ("inet"): the loads run
    there, so the lab's own teardown removes them with everything else."""
    for ip in SCANNERS:
        netns.run(lab.ns("inet"), ["ip", "addr", "add", f"{ip}/32", "dev", "lo"])


def listening(ns: str) -> bool:
    """Whether the probe listens, asked from a thread of its own: tcp_listening steps into
    the namespace, and this process's main thread never does (see main)."""
    with ThreadPoolExecutor(1) as ex:
        return ex.submit(tcp_listening, ns, VM, PORT).result()


def https_probe(lab: Lab, work: Path) -> subprocess.Popen[bytes]:
    """Replace the lab's outsider probe by the HTTPS drop-in's command line, run as the lab
    test runs it: a certificate for the outsider's address, copied where LoadCredential= puts
    it (a tmpfs over /run in the probe's own mount namespace), the lab's probe key, this
    process's RLIMIT_NOFILE. Returns once it listens."""
    out = lab.ns("out")
    old = probe_pid(out)
    os.kill(old, signal.SIGTERM)
    deadline = time.monotonic() + 10
    while exists(old) or listening(out):
        if time.monotonic() > deadline:
            raise RuntimeError("the lab's outsider probe did not stop")
        time.sleep(0.05)
    certs = work / "cert"
    certs.mkdir()
    cert.write(IPv4Address(VM), certs, name="probe")
    probe_argv = deploy.runnable(deploy.unit_argv(dropins=[deploy.HTTPS_DROPIN]))
    place = [f"mount -t tmpfs -o mode=0755 tmpfs /run && mkdir -p {deploy.CREDENTIALS_DIR}"]
    place += [f"cp {shlex.quote(str(certs / source.name))} {deploy.CREDENTIALS_DIR}/{ident}"
              for ident, source in deploy.credentials(deploy.HTTPS_DROPIN).items()]
    argv = ["unshare", "--mount", "--propagation", "private", "sh", "-c",
            " && ".join([*place, 'exec "$@"']), "sh", *probe_argv]
    env = {**os.environ, "RECETTE_PROBE_KEY": lab_password(lab.prefix, "probe")}
    with (work / "probe-https.jsonl").open("wb") as log, \
            (work / "probe-https.log").open("wb") as err:
        proc = netns.popen(out, argv, stdout=log, stderr=err, stdin=subprocess.DEVNULL, env=env)
    deadline = time.monotonic() + 20
    while not listening(out):
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            raise RuntimeError("the HTTPS probe did not listen: "
                               + (work / "probe-https.log").read_text()[-500:])
        time.sleep(0.05)
    return proc


def load(ns: str, role: str, out: Path, **opts: Any) -> subprocess.Popen[bytes]:
    argv = [sys.executable, __file__, "--role", role]
    for k, v in opts.items():
        if isinstance(v, bool):
            argv += [f"--{k}"] if v else []
        else:
            argv += [f"--{k}", str(v)]
    return netns.popen(ns, argv, stdout=out.open("wb"), stderr=subprocess.STDOUT)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--role", choices=sorted(ROLES))
    ap.add_argument("--scale", type=float, default=1.0)
    ap.add_argument("--rate", type=float, default=50000, help="scanner datagrams per second")
    ap.add_argument("--total", type=int, default=0)
    ap.add_argument("--clients", type=int, default=300)
    ap.add_argument("--seconds", type=float, default=30)
    ap.add_argument("--captured", default="")
    ap.add_argument("--alg", action=argparse.BooleanOptionalAction, default=True,
                    help="the site router's SIP ALG (default on: the ALG probes see rewrites)")
    ap.add_argument("--tls", action="store_true",
                    help="the probe over HTTPS as deploy/recette-probe-https.conf runs it")
    args = ap.parse_args()
    if args.role:
        print(json.dumps(ROLES[args.role](args)))
        return 0

    datagrams, tcp_bytes = int(1_000_000 * args.scale), int(100_000_000 * args.scale)
    seconds = max(45.0, datagrams / args.rate + 5)  # past the probe's 30 s lifetime
    resource.setrlimit(resource.RLIMIT_NOFILE, (4096, 4096))  # as the unit's LimitNOFILE
    # The field lab: the site's router (NAT, ALG as --alg says), the operator's Kamailio for
    # the NAT trial, and the outsider probe started from the systemd unit's ExecStart.
    print(f"building the field lab (ALG {'on' if args.alg else 'off'})...", file=sys.stderr)
    lab = Lab.up(prefix=f"rct{secrets.token_hex(2)}", operator="field", alg=args.alg)
    work = Path(tempfile.mkdtemp(prefix="probe-soak-"))
    report: dict[str, Any] = {"scale": args.scale, "datagrams": datagrams, "tcp_bytes": tcp_bytes,
                              "router_alg": args.alg, "tls": args.tls}
    loads: dict[str, subprocess.Popen[bytes]] = {}
    probe: subprocess.Popen[bytes] | None = None
    try:
        add_scanners(lab)
        net, key = lab.ns("inet"), lab_password(lab.prefix, "probe")
        reg = registrar_of(lab.profile)
        tls: ssl.SSLContext | None = None
        if args.tls:
            print("the outsider probe over HTTPS (the unit's drop-in)...", file=sys.stderr)
            probe = https_probe(lab, work)
            tls = VantagePoint(address=IPv4Address(VM), control_port=PORT,
                               tls_ca=work / "cert" / "probe.crt").ssl_context()
        pid = probe_pid(lab.ns("out"))
        if probe is not None and pid != probe.pid:
            raise RuntimeError(f"the probe in the namespace is {pid}, not the HTTPS one")
        client = ProbeClient(VM, PORT, key.encode(), timeout=10, vantage="outsider", tls=tls)
        # The agent's calls run on a thread in the site's LAN; this thread stays outside it,
        # or the lab's teardown (every process in the lab's namespaces) would end the bench.
        site = ThreadPoolExecutor(1, initializer=netns.enter, initargs=(lab.ns("lan"),))
        time.sleep(1)
        report["rss_mb_idle_start"] = round(rss_mb(pid)[0], 1)
        print("idle verdicts...", file=sys.stderr)
        idle = site.submit(verdicts, client, reg).result()
        report["idle_verdicts"] = idle
        idle_times = [site.submit(timed, client.post, "/whoami", {}).result()
                      for _ in range(20)]
        report["answer_s_idle"] = {"median": round(statistics.median(idle_times), 4),
                                   "max": round(max(idle_times), 4)}
        report["rss_mb_before"] = round(rss_mb(pid)[0], 1)

        # one signed request, captured as a sniffer would, for the replays
        ts, nonce = f"{time.time():.3f}", secrets.token_hex(8)
        body = "{}"
        auth = f"{ts}.{nonce}.{sign(key.encode(), ts, nonce, 'POST', '/whoami', body.encode())}"
        scheme = "https" if tls is not None else "http"
        site.submit(lambda: urllib.request.urlopen(urllib.request.Request(
            f"{scheme}://{VM}:{PORT}/whoami", data=body.encode(), headers={AUTH_HEADER: auth}),
            timeout=5, context=tls).read()).result()
        captured = json.dumps({"auth": auth, "body": body})

        t0 = time.monotonic()
        print(f"loads for {seconds:.0f} s...", file=sys.stderr)
        loads["scanner"] = load(net, "scanner", work / "scanner.json", total=datagrams,
                                rate=args.rate)
        loads["slow"] = load(net, "slow", work / "slow.json", clients=args.clients,
                             seconds=seconds, tls=args.tls)
        loads["tcp"] = load(net, "tcp", work / "tcp.json", total=tcp_bytes)
        loads["junk"] = load(net, "junk", work / "junk.json", seconds=seconds, tls=args.tls)
        loads["replay"] = load(net, "replay", work / "replay.json", seconds=seconds,
                               captured=captured, tls=args.tls)
        stop = threading.Event()
        times: list[float] = []
        failures: list[str] = []
        agent = threading.Thread(target=agent_loop, args=(client, lab.ns("lan"), stop, times,
                                                          failures))
        agent.start()
        peak = 0.0
        series: list[float] = []  # every 5 s: a plateau (connections at once) or a growth
        while any(p.poll() is None for p in loads.values()):
            peak = max(peak, rss_mb(pid)[0])
            if len(series) * 5 <= time.monotonic() - t0:
                series.append(round(rss_mb(pid)[0], 1))
            time.sleep(0.5)
            if time.monotonic() - t0 > seconds + 600:
                break
        print("loaded verdicts...", file=sys.stderr)
        # while the last loads end, on a probe that took them
        loaded = site.submit(verdicts, client, reg).result()
        stop.set()
        agent.join()
        report["load_seconds"] = round(time.monotonic() - t0, 1)
        report["loads"] = {}
        for name, p in loads.items():
            p.wait(30)
            text = (work / f"{name}.json").read_text().strip()
            try:
                report["loads"][name] = json.loads(text.splitlines()[-1])
            except (ValueError, IndexError):
                report["loads"][name] = text[-500:]
        report["agent"] = {"requests": len(times), "failures": failures[:5],
                           "failed": len(failures),
                           "answer_s_median": round(statistics.median(times), 4) if times
                           else None,
                           "answer_s_p99": round(sorted(times)[int(len(times) * 0.99)], 4)
                           if times else None,
                           "answer_s_max": round(max(times), 4) if times else None}
        report["loaded_verdicts_same"] = loaded == idle
        if loaded != idle:
            report["loaded_verdicts"] = loaded
        report["rss_mb_peak_sampled"] = round(peak, 1)
        report["rss_mb_every_5s"] = series
        rss, hwm = rss_mb(pid)
        report["rss_mb_after"], report["rss_mb_hwm"] = round(rss, 1), round(hwm, 1)
        report["probe_health"] = site.submit(health, client).result()["sip"]
        snmp = netns.run(lab.ns("out"), ["cat", "/proc/net/snmp"]).stdout.splitlines()
        udp = [ln.split() for ln in snmp if ln.startswith("Udp:")]
        report["kernel_udp"] = dict(zip(udp[0][1:], map(int, udp[1][1:]), strict=True))
        ok = (hwm < MAX_RSS_MB and not failures and times and max(times) < MAX_ANSWER_S
              and loaded == idle)
        report["pass"] = bool(ok)
    finally:
        for p in loads.values():
            if p.poll() is None:
                p.kill()
        if probe is not None and probe.poll() is None:  # before lab.down, which would too
            probe.terminate()
            try:
                probe.wait(10)
            except subprocess.TimeoutExpired:
                probe.kill()
                probe.wait(5)
        lab.down()
        shutil.rmtree(work, ignore_errors=True)
    print(json.dumps(report, indent=1))
    return 0 if report.get("pass") else 1


if __name__ == "__main__":
    sys.exit(main())
