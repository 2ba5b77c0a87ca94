"""The operator's side of the lab: its Kamailio, the SIPp far end, and the probe services.

These are the peers every check talks to through the site's router: Kamailio registers and
routes the trunks, SIPp answers and places calls with real media, and the probe services
(one beside the SIP server, one on the outsider) report what crossed the router. Each is
started in its namespace and waited for until it answers, so no check races a half-started
peer; Kamailio can be stopped and restarted (another digest algorithm, an operator outage).
"""

from __future__ import annotations

import os
import secrets
import socket
import subprocess
import sys
import time
from pathlib import Path

from harness import netns
from harness.errors import LabError
from harness.lab import farend, kamailio
from harness.lab.procs import kill_all, ns_pids, pid_alive, read_pid, tcp_listening, udp_port_taken
from harness.lab.profile import lab_password
from harness.lab.state import LabState, lab_dir, save_state
from harness.lab.topology import OP_SERVER, OUTSIDER, PROBE, PROBE_PORT, ns
from harness.profile import Profile


def kamailio_pidfile(prefix: str) -> Path:
    return lab_dir(prefix) / "kamailio.pid"


def start_kamailio(prefix: str, profile: Profile, digest: str, timeout: float = 10.0) -> None:
    """Start the operator's Kamailio in ``op`` and wait until it answers OPTIONS."""
    state_dir = lab_dir(prefix)
    cfg = state_dir / "kamailio.cfg"
    cfg.write_text(kamailio.render(profile, algorithm=digest))
    cfg.chmod(0o600)
    check = netns.run(None, ["kamailio", "-c", "-f", str(cfg)], check=False)
    if check.returncode != 0:
        lines = (check.stderr or "").strip().splitlines()
        why = [ln.split(": ", 2)[-1] for ln in lines if "CRITICAL" in ln or "ERROR" in ln]
        raise LabError(f"kamailio rejected {cfg}: {' | '.join(why[:2] or lines[-2:])}")
    log = open(state_dir / "kamailio.log", "ab")  # noqa: SIM115 - handed to the daemon
    with log:
        rc = netns.popen(
            ns(prefix, "op"),
            ["kamailio", "-f", str(cfg), "-P", str(kamailio_pidfile(prefix)),
             "-w", str(state_dir), "-m", "32", "-M", "8"],
            stdout=log, stderr=log, stdin=subprocess.DEVNULL,
        ).wait(timeout)
    if rc != 0:
        raise LabError(f"kamailio exited with {rc}: see {state_dir / 'kamailio.log'}")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if _options_ping(prefix):
            return
    raise LabError(f"kamailio did not answer within {timeout:.0f} s: see "
                   f"{state_dir / 'kamailio.log'}")


def _options_ping(prefix: str) -> bool:
    with netns.inside(ns(prefix, "op")):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    with s:
        s.settimeout(0.2)
        s.bind((str(OP_SERVER), 0))
        port = s.getsockname()[1]
        msg = (
            f"OPTIONS sip:{OP_SERVER} SIP/2.0\r\n"
            f"Via: SIP/2.0/UDP {OP_SERVER}:{port};branch=z9hG4bK{secrets.token_hex(6)}\r\n"
            f"From: <sip:ping@{OP_SERVER}>;tag=1\r\nTo: <sip:{OP_SERVER}>\r\n"
            f"Call-ID: {secrets.token_hex(8)}\r\nCSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\n"
            "Content-Length: 0\r\n\r\n"
        )
        try:
            s.sendto(msg.encode(), (str(OP_SERVER), 5060))
            return s.recv(4096).startswith(b"SIP/2.0 200")
        except OSError:
            time.sleep(0.05)
            return False


def start_far_end(prefix: str, timeout: float = 5.0) -> None:
    """Start the SIPp far end in ``op`` and wait until its SIP port is bound."""
    state_dir = lab_dir(prefix)
    pcap = state_dir / "farend.pcap"
    if not pcap.exists():
        farend.write_pcap(pcap)
    scen = state_dir / "farend.xml"
    scen.write_text(farend.scenario(pcap))
    log = open(state_dir / "farend.log", "ab")  # noqa: SIM115 - handed to the process
    with log:
        proc = netns.popen(ns(prefix, "op"),
                           farend.command(scen, str(OP_SERVER), kamailio.FAR_END_PORT),
                           stdout=log, stderr=log, stdin=subprocess.DEVNULL,
                           cwd=str(state_dir))
    (state_dir / "farend.pid").write_text(str(proc.pid))
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise LabError(f"the SIPp far end exited with {proc.returncode}: see "
                           f"{state_dir / 'farend.log'}")
        if udp_port_taken(ns(prefix, "op"), str(OP_SERVER), kamailio.FAR_END_PORT):
            return
        time.sleep(0.02)
    raise LabError(f"the SIPp far end did not start within {timeout:.0f} s")


def set_digest(state: LabState, profile: Profile, algorithm: str) -> None:
    """Restart Kamailio challenging with ``algorithm`` (RFC 8760: "MD5" or "SHA-256")."""
    if algorithm not in ("MD5", "SHA-256"):
        raise LabError(f"digest algorithm {algorithm!r}: expected MD5 or SHA-256")
    stop_kamailio(state.prefix)
    state.digest = algorithm
    save_state(state)
    start_kamailio(state.prefix, profile, state.digest)


def start_probes(prefix: str, timeout: float = 10.0) -> None:
    """``recette probe serve`` in ``op`` (SIP listeners, sending from the server IP) and in
    ``out`` (the outsider vantage point), keyed with the lab's probe key."""
    state_dir = lab_dir(prefix)
    env = {**os.environ, "RECETTE_PROBE_KEY": lab_password(prefix, "probe")}
    for role, control, send_from, sip in (
        ("op", PROBE, OP_SERVER, PROBE), ("out", OUTSIDER, OUTSIDER, OUTSIDER),
    ):
        argv = [sys.executable, "-m", "harness.cli", "probe", "serve", "--control",
                f"{control}:{PROBE_PORT}", "--send-from", str(send_from),
                "--log", str(state_dir / f"probe-{role}.jsonl")]
        if sip is not None:
            argv += ["--sip-ip", str(sip)]
        log = open(state_dir / f"probe-{role}.log", "ab")  # noqa: SIM115 - handed over
        with log:
            proc = netns.popen(ns(prefix, role), argv, stdout=log, stderr=log,
                               stdin=subprocess.DEVNULL, env=env)
        deadline = time.monotonic() + timeout
        while not tcp_listening(ns(prefix, role), str(control), PROBE_PORT):
            if proc.poll() is not None or time.monotonic() > deadline:
                raise LabError(f"the {role} probe did not start: see "
                               f"{state_dir / f'probe-{role}.log'}")
            time.sleep(0.02)


def kamailio_running(prefix: str) -> bool:
    return pid_alive(kamailio_pidfile(prefix))


def stop_kamailio(prefix: str) -> None:
    """Stop the operator's Kamailio (all its children) and wait for them to exit."""
    far = read_pid(lab_dir(prefix) / "farend.pid")
    kill_all([p for p in ns_pids(ns(prefix, "op")) if p != far])
    kamailio_pidfile(prefix).unlink(missing_ok=True)
