"""``recette`` command line: profile check, lab up/down/status, run, demo.

Every failure the user can fix is one line on stderr (``recette: ...``) and exit status 2;
a run whose checks did not all pass exits 1.
"""

from __future__ import annotations

import argparse
import ipaddress
import json
import sys
from collections.abc import Sequence
from ipaddress import IPv4Network, IPv6Network
from pathlib import Path
from typing import TYPE_CHECKING

from harness import __version__
from harness.errors import RecetteError
from harness.lab.firewall import FIREWALL_MODES
from harness.lab.shapes import SHAPES
from harness.lab.topology import IPBX_KINDS, OPERATOR_KINDS
from harness.probe.deploy import SIGNING_KEY_ENV

if TYPE_CHECKING:
    from harness.attest import Signer
    from harness.console.serve import Notifier

DEFAULT_LAB_PROFILE = Path("profiles/lab.yaml")
DEFAULT_PROBE_PORT = 5099  # harness.profile.VantagePoint.control_port's default


def _on_off(value: str) -> bool:
    if value not in ("on", "off"):
        raise argparse.ArgumentTypeError("expected 'on' or 'off'")
    return value == "on"


def _progress(msg: str) -> None:
    print(f"  - {msg}", file=sys.stderr, flush=True)


def cmd_profile_check(args: argparse.Namespace) -> int:
    from harness.profile import ProfileError, load_profile
    from harness.yamlsrc import YamlSourceError

    bad = 0
    for path in args.files:
        try:
            prof = load_profile(path, require_env=args.require_env)
        except (ProfileError, YamlSourceError) as exc:
            bad += 1
            print(str(exc), file=sys.stderr)
            continue
        dids = sum(len(t.dids) for t in prof.trunks) + sum(1 for c in prof.centrex if c.did)
        router = f"router {prof.router.kind}" if prof.router else "no router"
        print(f"{path}: ok ({len(prof.trunks)} trunk(s), {len(prof.centrex)} Centrex "
              f"account(s), {dids} number(s), {router})")
    return 1 if bad else 0


def cmd_lab_up(args: argparse.Namespace) -> int:
    import time

    from harness import lab

    lab.preflight()
    current = [p for p in lab.existing_prefixes() if lab.owner_alive(p) is None]
    if current and not args.prefix:
        raise RecetteError(f"a lab is already up ({', '.join(current)}): "
                           "run `recette lab down` first")
    t0 = time.monotonic()
    field = "" if args.operator == "default" else f", operator {args.operator}"
    field += "" if args.shape == "default" else f", shape {args.shape}"
    field += "" if args.ipbx == "none" else f", {args.ipbx} IPBX"
    print(f"recette: building the lab (firewall {args.firewall}, SIP ALG "
          f"{'on' if args.alg else 'off'}{field})", file=sys.stderr)
    built = lab.Lab.up(prefix=args.prefix, alg=args.alg, firewall=args.firewall,
                       profile_path=args.profile_out, progress=_progress, owned=False,
                       operator=args.operator, media_ip=args.media_ip, shape=args.shape,
                       declared=not args.undeclared, ipbx=args.ipbx)
    print(f"recette: lab {built.prefix} up in {time.monotonic() - t0:.2f} s; "
          f"profile: {args.profile_out}", file=sys.stderr)
    print(built.prefix)
    return 0


def cmd_lab_down(args: argparse.Namespace) -> int:
    from harness import lab

    lab.preflight({"ip": "iproute2"})
    if args.prefix:
        lab.down(args.prefix)
        removed = [args.prefix]
    else:
        removed, kept = lab.down_all(force=args.all)
        for p in kept:
            print(f"recette: kept {p}: its owner (pid {lab.owner_alive(p)}) is still running; "
                  "--all removes it anyway", file=sys.stderr)
    print(f"recette: removed {', '.join(removed) if removed else 'nothing (no lab was up)'}",
          file=sys.stderr)
    return 0


def cmd_lab_status(args: argparse.Namespace) -> int:
    from harness import lab

    prefixes = lab.existing_prefixes()
    if not prefixes:
        print("no lab is up")
        return 3
    out = []
    for p in prefixes:
        try:
            out.append(lab.Lab.attach(p).status())
        except RecetteError as exc:
            out.append({"prefix": p, "error": str(exc)})
    if args.json:
        print(json.dumps(out, indent=2))
    else:
        for st in out:
            if "error" in st:
                print(f"{st['prefix']}: broken ({st['error']}); `recette lab down` removes it")
                continue
            ns = st["namespaces"]
            assert isinstance(ns, dict)
            missing = [r for r, ok in ns.items() if not ok]
            relay = "" if st["operator"] != "field" else (
                f" (media on {st['media_ip']}, rtpengine "
                f"{'running' if st['rtpengine'] else 'STOPPED'}), shape {st['shape']}")
            daemons = st.get("ipbx_daemons") or {}
            assert isinstance(daemons, dict)
            stopped = [d for d, ok in daemons.items() if not ok]
            relay += "" if st.get("ipbx", "none") == "none" else (
                f", {st['ipbx']} IPBX "
                f"{'running' if not stopped else 'STOPPED: ' + ','.join(stopped)}")
            print(f"{st['prefix']}: operator {st['operator']}{relay}, firewall "
                  f"{st['firewall']}, SIP ALG {'on' if st['alg'] else 'off'}, Kamailio "
                  f"{'running' if st['kamailio'] else 'STOPPED'}, namespaces "
                  f"{'all present' if not missing else 'MISSING ' + ','.join(missing)}")
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    from harness.runner import run_checks

    if not 1 <= args.call_seconds <= 3600:
        raise RecetteError(f"--call-seconds: expected 1 to 3600 s, got {args.call_seconds:g}")
    if not 1 <= args.nat_idle_max <= 900:
        raise RecetteError(f"--nat-idle-max: expected 1 to 900 s, got {args.nat_idle_max:g}")
    if args.beyond_contract and args.channels is None:
        raise RecetteError("--beyond-contract: only with --channels N")
    return run_checks(profile=args.profile, out=args.out, only=args.only, lang=args.lang,
                      call_seconds=args.call_seconds, nat_idle_max=args.nat_idle_max,
                      serial=args.serial, capture=not args.no_capture, upload=args.upload,
                      channels=args.channels, beyond_contract=args.beyond_contract)


def cmd_demo(args: argparse.Namespace) -> int:
    from harness.demo import demo

    return demo(alg=args.alg, firewall=args.firewall, out=args.out, lang=args.lang,
                serial=args.serial, capture=not args.no_capture)


def cmd_analyse(args: argparse.Namespace) -> int:
    """Analyse a capture; exit 1 when it shows a failed call or another diagnosis."""
    import datetime as dt

    from harness import rooms

    out = args.out or Path("out") / f"analyse-{dt.datetime.now():%Y%m%d-%H%M%S}"
    analyse = rooms.load(rooms.ANALYSE)
    for port in args.sip_port:
        if not 1 <= port <= 65535:
            raise RecetteError(f"--sip-port: expected a port from 1 to 65535, got {port}")
    result, paths = analyse.main(args.file, out=out, lang=args.lang,
                                 sheet=rooms.load(rooms.SHEET), sip_ports=args.sip_port)
    print(paths[0].read_text(encoding="utf-8"), end="")
    for path in paths:
        print(f"recette: wrote {path}", file=sys.stderr)
    return 1 if result.findings else 0


def cmd_audit(args: argparse.Namespace) -> int:
    from ipaddress import IPv4Address

    from harness import rooms
    from harness.profile import load_profile

    routers = rooms.load(rooms.ROUTER_KINDS)  # the router-kind table and the offline audit
    router = None
    if args.profile:
        prof = load_profile(args.profile)
        operator = prof.operator.addresses()
        router = prof.router
    else:
        if not args.server:
            raise RecetteError("--server: give the operator's SIP server IP (or --profile)")

        def ip(option: str, text: str) -> IPv4Address:
            try:
                return IPv4Address(text)
            except ValueError:
                raise RecetteError(f"--{option}: expected an IPv4 address, got {text!r}") \
                    from None

        # The operator's addresses by role, as a profile's operator gives them.
        operator = {ip("server", args.server): ("registrar",)}
        for option, role in (("signalling", "signalling"), ("media", "media")):
            for text in getattr(args, option) or ():
                roles = operator.setdefault(ip(option, text), ())
                operator[ip(option, text)] = (*roles, role) if role not in roles else roles
    result = routers.audit_file(args.config, routers.KINDS[args.kind], operator, router)
    if not result.findings:
        print(f"{args.config}: no finding")
    for line in result.lines():
        print(line)
    return 1 if result.blocking() else 0


def cmd_gate(args: argparse.Namespace) -> int:
    """The gate seen from a shell: its state and trail, and the fraud block. Recording a
    verification and switching the option on belong to the console alone (an upload it
    verified; an authenticated technical user), with the server's clock: a shell that could
    do either could back-date a pass or name any actor. A fraud block only closes, so it
    stays here for an emergency, under the login name."""
    import getpass

    from harness.gate.store import open_store

    store = open_store(args.store)
    if args.sub == "status":
        print(store.status(args.site, args.trunk).line())
    elif args.sub == "revoke":
        print(store.revoke(args.site, args.trunk, actor=f"{getpass.getuser()} (shell)",
                           reason=args.reason, destinations=args.destinations).line())
    else:
        events = store.history(args.site)
        for ev in events:
            print(ev.line())
        if not events:
            print(f"{args.site}: no event")
    return 0


def cmd_console(args: argparse.Namespace) -> int:
    from harness.console import serve

    if args.sub == "serve":
        return serve.serve(args.listen, args.db, secure_cookies=not args.insecure_cookies,
                           proxies=args.proxies, key_file=args.key_file,
                           notifier=_notifier(args, args.listen) if args.notify else None)
    if args.sub == "notify":
        return serve.notify(_notifier(args, None), args.db)
    if args.sub in ("retention", "files"):
        from harness.console import filecmds

        if args.sub == "retention":
            return filecmds.retention(args.db, dry_run=args.dry_run, settings=args.set or [])
        return filecmds.migrate(args.db)
    if args.sub == "probe":
        return serve.probe(args.op, args.db, name=getattr(args, "name", None),
                           public=getattr(args, "public_key", None),
                           key_id=getattr(args, "key_id", None))
    if args.op == "passwd":
        return serve.user_passwd(args.username, args.db)
    return serve.user_add(args.username, args.role, args.company, args.db)


def _notifier(args: argparse.Namespace, listen: str | None) -> Notifier:
    """The notifications' settings of ``console notify`` or ``console serve --notify``."""
    from harness.console.serve import Notifier

    base = args.base_url or (f"http://{listen}" if listen else "http://127.0.0.1:8080")
    return Notifier(args.smtp, args.smtp_from, args.smtp_starttls, args.smtp_user, base,
                    every=getattr(args, "every", 60.0), once=getattr(args, "once", False),
                    webhook_allow=tuple(args.webhook_allow or ()))


def _network(text: str) -> IPv4Network | IPv6Network:
    """A ``--webhook-allow`` value: an address or a network (``10.1.2.0/24``)."""
    try:
        return ipaddress.ip_network(text, strict=False)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an address or a network: {text!r}") from None


def _notify_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--webhook-allow", type=_network, action="append", metavar="NETWORK",
                   help="an internal network a webhook may reach (repeatable; by default "
                   "webhooks go to public addresses only, never to this host or its LAN)")
    p.add_argument("--smtp", metavar="HOST:PORT", help="the SMTP relay for e-mails (none: "
                   "only webhooks are sent)")
    p.add_argument("--smtp-from", default="recette@localhost", metavar="ADDRESS",
                   help="the mails' sender (default recette@localhost)")
    p.add_argument("--smtp-starttls", action="store_true", help="STARTTLS before sending")
    p.add_argument("--smtp-user", metavar="NAME", help="SMTP login (password from "
                   "$RECETTE_SMTP_PASSWORD, never the command line)")
    p.add_argument("--base-url", metavar="URL", help="the console's address in the mails' "
                   "links (default http://LISTEN, or http://127.0.0.1:8080)")


def cmd_upload(args: argparse.Namespace) -> int:
    """An output folder to the console, with the integrator's token: the only way a run
    reaches the gate (there is no local import: an agent never writes the gate)."""
    from harness.console.upload import upload

    answer = upload(args.dir, args.url)
    print(f"{'uploaded' if answer.get('new') else 'already there'}: run {answer.get('id')} "
          f"of {answer.get('site')}")
    if answer.get("gate"):
        print(f"international option: {answer['gate']}")
    return 0


def _signer_from_env(var: str) -> Signer | None:
    """The probe's signing key from ``$var`` (None when unset); a malformed one is a one-line
    error that does not echo it."""
    import os

    from harness.attest import Signer

    text = os.environ.get(var, "")
    if not text:
        return None
    try:
        return Signer.from_text(text)
    except RecetteError as exc:
        raise RecetteError(f"--signing-key-env: {var}: {exc}") from None


def cmd_probe_serve(args: argparse.Namespace) -> int:
    import os
    import ssl

    from harness.probe.server import STDOUT, ProbeConfig, serve

    key = os.environ.get(args.key_env, "")
    if not key:
        raise RecetteError(f"--key-env: environment variable {args.key_env} is not set "
                           "(the probe refuses to run without a key; `recette probe keygen` "
                           "makes one)")
    signer = _signer_from_env(args.signing_key_env)

    def addr(value: str, flag: str) -> tuple[str, int]:
        host, _, port = value.rpartition(":")
        if not host or not port.isdigit():
            raise RecetteError(f"{flag}: expected IP:PORT, got {value!r}")
        return host, int(port)

    if (args.tls_cert is None) != (args.tls_key is None):
        raise RecetteError("--tls-cert and --tls-key go together")
    tls = (args.tls_cert, args.tls_key) if args.tls_cert is not None else None
    for path in tls or ():
        if not path.is_file():
            raise RecetteError(f"{path}: no such file")
    cfg = ProbeConfig(control=addr(args.control, "--control"), send_from=args.send_from,
                      key=key.encode(), sip_ip=args.sip_ip, sip_listen=not args.no_sip,
                      log=STDOUT if args.log == "-" else (Path(args.log) if args.log else None),
                      tls=tls, signing_key=signer)
    sip = "no SIP listeners" if args.no_sip and not args.sip_ip else (
        f"SIP on {args.sip_ip or 'every address'} ports {list(cfg.sip_ports)}")
    print(f"recette probe: control {args.control}{' (HTTPS)' if tls else ''}, sending from "
          f"{args.send_from or 'the kernel-chosen address towards each requester'}, {sip}",
          file=sys.stderr, flush=True)
    if signer is None:
        print(f"recette probe: warning: no signing key ({args.signing_key_env} is not set): "
              "its sweeps are unsigned and the console cannot verify them", file=sys.stderr,
              flush=True)
    else:
        print(f"recette probe: signing sweeps with key {signer.key_id}", file=sys.stderr,
              flush=True)
    try:
        serve(cfg)
    except ssl.SSLError as exc:
        raise RecetteError(f"probe: --tls-cert/--tls-key: {exc.reason or exc}") from None
    except OSError as exc:
        raise RecetteError(f"probe: cannot listen: {exc.strerror}") from None
    return 0


def cmd_probe_keygen(args: argparse.Namespace) -> int:
    """A new shared key (the HMAC key agents sign their requests with) and a new signing key
    (Ed25519: the probe's attestations, which the console verifies): on stdout, or into an
    environment file (0600) that systemd's EnvironmentFile= and ``podman/docker run
    --env-file`` both read. The signing key stays on the probe; only its public key goes to
    the console."""
    import secrets

    from harness.attest import generate, key_id

    var, signing_var = args.key_env, args.signing_key_env
    for flag, name in (("--key-env", var), ("--signing-key-env", signing_var)):
        _env_name(flag, name)
    if var == signing_var:
        raise RecetteError("--key-env and --signing-key-env must differ")
    key = secrets.token_urlsafe(32)  # 32 random bytes
    private, public = generate()
    if args.env_file is None:
        print(f"{var}={key}\n{signing_var}={private}")
        where = (f"the keys above are the probe's {var} (shared) and {signing_var} "
                 "(signing)")
    else:
        _write_env_file(args.env_file, f"{var}={key}\n{signing_var}={private}\n",
                        force=args.force)
        where = f"new probe keys are in {args.env_file} ({var}, {signing_var}, mode 0600)"
    print(f"recette: {where}.\n"
          f"recette: the signing key ({signing_var}) never leaves the probe; give the site "
          f"agent only the shared key, in its environment ({var}), and name the probe in the "
          "site profile:\n"
          "  vantage_points:\n    outsider:\n"
          "      address: <this host's public IPv4 address>\n"
          "      control_port: 5099\n"
          f"      key_env: {var}\n"
          f"recette: public key {public} (key id {key_id(public)}); the technical service "
          "registers it so the console can verify this probe's sweeps:\n"
          f"  recette console probe add <name> {public}", file=sys.stderr)
    return 0


def cmd_probe_pubkey(args: argparse.Namespace) -> int:
    """The public key and key id of the probe's signing key, read again from its environment
    (what the technical service registers; nothing secret is printed)."""
    signer = _signer_from_env(args.signing_key_env)
    if signer is None:
        raise RecetteError(f"--signing-key-env: environment variable {args.signing_key_env} "
                           "is not set (`recette probe keygen` makes a signing key)")
    print(f"public key {signer.public}\nkey id {signer.key_id}\n"
          f"register it: recette console probe add <name> {signer.public}")
    return 0


def _env_name(flag: str, name: str) -> None:
    import re

    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
        raise RecetteError(f"{flag}: {name!r} is not an environment variable name")


def cmd_probe_cert(args: argparse.Namespace) -> int:
    """A self-signed certificate and key for ``probe serve --tls-cert/--tls-key``
    (:mod:`harness.probe.cert`), and the profile line that makes the agent pin it."""
    from ipaddress import IPv4Address

    from harness.probe import cert

    try:
        address = IPv4Address(args.address)
    except ValueError:
        raise RecetteError(f"--address: expected the probe's IPv4 address, got "
                           f"{args.address!r}") from None
    files = cert.write(address, args.out, args.days, args.name)
    crt, key = files.cert.resolve(), files.key.resolve()
    print(f"recette: certificate {crt} (for {address}, valid {args.days} days)\n"
          f"recette: private key {key} (mode 0600, stays on the probe)\n"
          f"on the probe:  recette probe serve --tls-cert {crt} --tls-key {key} ...\n"
          "copy the certificate (never the key) to the site agent and name it in the site "
          "profile:\n"
          "  vantage_points:\n    outsider:\n"
          f"      address: {address}\n"
          f"      tls_ca: {crt}   # where the copy is on the agent")
    return 0


def _write_env_file(path: Path, text: str, *, force: bool) -> None:
    """Write ``text`` to ``path`` readable by its owner only: a temporary file created 0600
    beside it, then renamed over it, so no moment exposes the key to other users."""
    import os

    if path.is_dir():
        raise RecetteError(f"--env-file: {path} is a folder")
    if path.exists() and not force:
        raise RecetteError(f"--env-file: {path} exists (its key may be in use); --force "
                           "replaces it")
    if not path.parent.is_dir():
        raise RecetteError(f"--env-file: folder {path.parent} does not exist")
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            os.fchmod(f.fileno(), 0o600)
            f.write(text)
        os.replace(tmp, path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise RecetteError(f"--env-file: cannot write {path}: {exc.strerror}") from None


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="recette", description=__doc__.splitlines()[0])
    p.add_argument("--version", action="version", version=f"recette {__version__}")
    sub = p.add_subparsers(dest="command", required=True)

    prof = sub.add_parser("profile", help="site profiles").add_subparsers(dest="sub",
                                                                          required=True)
    chk = prof.add_parser("check", help="validate site profile files")
    chk.add_argument("files", nargs="+", type=Path)
    chk.add_argument("--require-env", action="store_true",
                     help="also fail when a *_env secret's variable is unset")
    chk.set_defaults(func=cmd_profile_check)

    lab = sub.add_parser("lab", help="the reference lab").add_subparsers(dest="sub",
                                                                        required=True)
    up = lab.add_parser("up", help="build the lab (root)")
    up.add_argument("--alg", type=_on_off, default=False, metavar="on|off")
    up.add_argument("--firewall", choices=FIREWALL_MODES, default="strict")
    up.add_argument("--profile-out", type=Path, default=DEFAULT_LAB_PROFILE)
    up.add_argument("--prefix", help="lab name (rct + 4 hex digits); random by default")
    up.add_argument("--operator", choices=OPERATOR_KINDS, default="default",
                    help="default: Kamailio, an echoing far end, a lab caller and probe; "
                         "field: a carrier's SBC (rtpengine relay, announcement test number, "
                         "DIDs by hairpin, outsider probe only)")
    up.add_argument("--media-ip", metavar="IP",
                    help="field operator: the relay's media address in 198.51.100.0/24 "
                         "(default: the SIP server's, 198.51.100.10)")
    up.add_argument("--shape", choices=SHAPES, default="default",
                    help="field operator: where its SIP and media come from; "
                         + "; ".join(f"{s.name}: {s.summary}" for s in SHAPES.values()))
    up.add_argument("--undeclared", action="store_true",
                    help="field operator: the written profile leaves out the shape's edge "
                         "proxy and media addresses (an integrator who forgot them)")
    up.add_argument("--ipbx", choices=IPBX_KINDS, default="none",
                    help="the site's own IPBX on 192.168.254.20: strict (LAN and operator only, "
                         "every request authenticated, nothing forwarded to it), weak (a "
                         "FreePBX-like box forwarded from the WAN: SIP UDP/TCP 5060, web 80/8080, "
                         "TFTP 69; answers anyone, enumerable, routes unauthenticated "
                         "international calls), none (default: the agent plays the IPBX)")
    up.set_defaults(func=cmd_lab_up)
    down = lab.add_parser("down", help="remove the lab, or every leftover lab (idempotent)")
    down.add_argument("--prefix")
    down.add_argument("--all", action="store_true",
                      help="also remove labs whose owning process (a test run) still runs")
    down.set_defaults(func=cmd_lab_down)
    st = lab.add_parser("status", help="show labs on this machine")
    st.add_argument("--json", action="store_true")
    st.set_defaults(func=cmd_lab_status)

    from harness import rooms  # the router kinds come from the runner's table of rooms

    au = sub.add_parser("audit", help="audit a saved router configuration (no device)")
    au.add_argument("--config", type=Path, required=True)
    au.add_argument("--kind", choices=sorted(rooms.load(rooms.ROUTER_KINDS).KINDS),
                    required=True)
    au.add_argument("--profile", type=Path, help="site profile (LANs, IPBX, server IP)")
    au.add_argument("--server", help="operator SIP server IP when no profile is given")
    au.add_argument("--signalling", action="append", metavar="IP",
                    help="an operator address sending SIP requests (edge proxy), repeatable")
    au.add_argument("--media", action="append", metavar="IP",
                    help="an operator media relay address, repeatable")
    au.set_defaults(func=cmd_audit)

    gate = sub.add_parser("gate", help="international-option gate").add_subparsers(
        dest="sub", required=True)
    for name, helptext in (("status", "where the option stands"),
                           ("revoke", "fraud block: close the option"),
                           ("history", "every event, oldest first")):
        g = gate.add_parser(name, help=helptext)
        g.add_argument("site")
        g.add_argument("--store", help="SQLAlchemy URL (default $RECETTE_GATE_URL or "
                                       "sqlite:////var/lib/recette/gate.db)")
        if name in ("status", "revoke"):
            g.add_argument("--trunk", required=name != "status")
        if name == "revoke":
            g.add_argument("--reason", required=True)
            g.add_argument("--destinations", nargs="*", default=[])
        g.set_defaults(func=cmd_gate)

    probe = sub.add_parser("probe", help="the operator-side probe service").add_subparsers(
        dest="sub", required=True)
    ps = probe.add_parser("serve", help="serve firewall/ALG tests to site agents")
    ps.add_argument("--control", default=f"0.0.0.0:{DEFAULT_PROBE_PORT}",
                    help=f"IP:PORT of the control channel (default 0.0.0.0:{DEFAULT_PROBE_PORT})")
    ps.add_argument("--send-from", metavar="IP",
                    help="source IP of test traffic (the SIP server's for the server probe; "
                         "default: the address the kernel picks towards each requester)")
    ps.add_argument("--sip-ip", metavar="IP",
                    help="listen for SIP (ALG detection, UDP and TCP 5060 and 5088) on this IP "
                         "only (default: every address)")
    ps.add_argument("--no-sip", action="store_true",
                    help="no SIP listeners (unless --sip-ip): a probe that only sweeps")
    ps.add_argument("--key-env", default="RECETTE_PROBE_KEY",
                    help="environment variable holding the shared key")
    ps.add_argument("--signing-key-env", default=SIGNING_KEY_ENV,
                    help=f"environment variable holding the signing key (default "
                         f"{SIGNING_KEY_ENV}; without it sweeps are unsigned)")
    ps.add_argument("--log", metavar="FILE|-",
                    help="append one JSON line per test to FILE, or to stdout with '-'")
    ps.add_argument("--tls-cert", type=Path, metavar="PEM",
                    help="serve the control channel over HTTPS with this certificate chain")
    ps.add_argument("--tls-key", type=Path, metavar="PEM", help="the certificate's private key")
    ps.set_defaults(func=cmd_probe_serve)
    kg = probe.add_parser("keygen", help="make a new shared key for a probe and its agents, "
                                         "and the probe's signing key")
    kg.add_argument("--env-file", type=Path, metavar="PATH",
                    help="write KEY_ENV=key and SIGNING_KEY_ENV=key to PATH (mode 0600) "
                         "instead of printing the keys")
    kg.add_argument("--force", action="store_true", help="replace an existing --env-file")
    kg.add_argument("--key-env", default="RECETTE_PROBE_KEY",
                    help="the variable's name (default RECETTE_PROBE_KEY)")
    kg.add_argument("--signing-key-env", default=SIGNING_KEY_ENV,
                    help=f"the signing key variable's name (default {SIGNING_KEY_ENV})")
    kg.set_defaults(func=cmd_probe_keygen)
    pk = probe.add_parser("pubkey", help="print the public key and key id of the probe's "
                                         "signing key (to register it in the console)")
    pk.add_argument("--signing-key-env", default=SIGNING_KEY_ENV,
                    help=f"environment variable holding the signing key (default "
                         f"{SIGNING_KEY_ENV})")
    pk.set_defaults(func=cmd_probe_pubkey)
    pc = probe.add_parser("cert", help="make a self-signed certificate for --tls-cert/--tls-key")
    pc.add_argument("--address", required=True, metavar="IP",
                    help="the probe's public IPv4 address (the certificate's SAN and CN)")
    pc.add_argument("--out", type=Path, default=Path("."), metavar="DIR",
                    help="folder for probe-IP.crt and probe-IP.key (default: here)")
    pc.add_argument("--name", metavar="BASE",
                    help="file names BASE.crt and BASE.key (default probe-IP; 'probe' for "
                         "deploy/recette-probe-https.conf)")
    pc.add_argument("--days", type=int, default=825, metavar="N",
                    help="validity in days (default 825)")  # cert.DEFAULT_DAYS
    pc.set_defaults(func=cmd_probe_cert)

    con = sub.add_parser("console", help="the technical service's web console").add_subparsers(
        dest="sub", required=True)
    cs = con.add_parser("serve", help="serve the console")
    cs.add_argument("--listen", default="127.0.0.1:8080", metavar="HOST:PORT")
    cs.add_argument("--insecure-cookies", action="store_true",
                    help="session cookie without Secure, for plain HTTP (behind no TLS proxy)")
    cs.add_argument("--proxies", type=int, default=0, metavar="N",
                    help="reverse proxies in front whose X-Forwarded-For/-Proto to trust")
    cs.add_argument("--key-file", type=Path, metavar="PATH",
                    help="the cookie-signing key, 0600, shared by every instance (default: "
                    "console.key beside the SQLite store, else /var/lib/recette/console.key;"
                    " made when missing)")
    cs.add_argument("--notify", action="store_true",
                    help="also run the notifications' loop (as `console notify`) in a thread")
    _notify_options(cs)
    cn = con.add_parser("notify", help="send the notifications: sweep for due events, send "
                        "the outbox by e-mail and webhook (every 60 s, or --once)")
    cn.add_argument("--once", action="store_true", help="one round, then exit (cron, timer)")
    cn.add_argument("--every", type=float, default=60.0, metavar="SECONDS",
                    help="seconds between two rounds (default 60)")
    cn.add_argument("--db", "--url", dest="db", metavar="URL",
                    help="SQLAlchemy URL (default $RECETTE_GATE_URL or the gate's SQLite file)")
    cn.set_defaults(func=cmd_console)
    _notify_options(cn)
    cu = con.add_parser("user", help="console users").add_subparsers(dest="op", required=True)
    ua = cu.add_parser("add", help="create a user (password from $RECETTE_CONSOLE_PASSWORD "
                       "or asked)")
    ua.add_argument("username")
    ua.add_argument("--role", choices=("administrator", "technical", "integrator"),
                    required=True)
    ua.add_argument("--company", help="the integrator's company (integrator users)")
    up = cu.add_parser("passwd", help="reset a user's password and log out its sessions "
                       "(password from $RECETTE_CONSOLE_PASSWORD or asked)")
    up.add_argument("username")
    cp = con.add_parser("probe", help="the probes whose signed sweeps the console trusts"
                        ).add_subparsers(dest="op", required=True)
    pa = cp.add_parser("add", help="register a probe's public key (`recette probe keygen` "
                       "or `recette probe pubkey` on the probe prints it)")
    pa.add_argument("name", help="what the trail calls it, e.g. outsider-ovh-gra")
    pa.add_argument("public_key")
    pl = cp.add_parser("list", help="the registered probe keys")
    pr = cp.add_parser("revoke", help="retire a probe key: it backs no upload from now")
    pr.add_argument("key_id")
    rt = con.add_parser("retention", help="purge the stored files whose retention ended "
                        "(capture 90 days, report 1 year, sheet 10 years unless --set); "
                        "cron-friendly")
    rt.add_argument("--dry-run", action="store_true", help="count, purge nothing")
    rt.add_argument("--set", action="append", metavar="KIND=DAYS",
                    help="keep KIND (capture, report, sheet) DAYS days from now on (kept in "
                    "the console's settings table)")
    fm = con.add_parser("files", help="the stored files").add_subparsers(dest="op",
                                                                         required=True)
    fmm = fm.add_parser("migrate", help="move files stored in the database (before 0008) "
                        "to the blob store ($RECETTE_FILES); idempotent, progress on stderr")
    for c in (cs, ua, up, pa, pl, pr, rt, fmm):
        c.add_argument("--db", help="SQLAlchemy URL (default $RECETTE_GATE_URL or the gate's "
                       "SQLite file)")
        c.set_defaults(func=cmd_console)
    upl = sub.add_parser("upload", help="send an output folder to the console "
                         "(token in $RECETTE_CONSOLE_TOKEN)")
    upl.add_argument("dir", type=Path)
    upl.add_argument("--url", required=True, help="the console, e.g. https://console.example")
    upl.set_defaults(func=cmd_upload)

    an = sub.add_parser("analyse", help="analyse a capture (pcap/pcapng) of SIP and RTP")
    an.add_argument("file", type=Path, help="FILE.pcap or FILE.pcapng")
    an.add_argument("--out", type=Path, default=None,
                    help="output folder (default: out/analyse-<ts>)")
    an.add_argument("--lang", choices=("fr", "en"), default="fr")
    an.add_argument("--sip-port", type=int, action="append", default=[], metavar="N",
                    help="also read TCP/UDP port N as SIP (repeatable; 5060 and any message "
                         "starting with a SIP start line are read anyway)")
    an.set_defaults(func=cmd_analyse)

    run = sub.add_parser("run", help="run the checks for a site profile")
    run.add_argument("--profile", type=Path, required=True)
    run.add_argument("--out", type=Path, default=None, help="output folder (default: out/<ts>)")
    run.add_argument("--only", action="append", default=[],
                     help="run only checks whose name contains this (repeatable)")
    run.add_argument("--lang", choices=("fr", "en"), default="fr")
    run.add_argument("--call-seconds", type=float, default=10.0,
                     help="RTP time of each test call (default 10)")
    run.add_argument("--nat-idle-max", type=float, default=60.0,
                     help="longest idle time tried on a UDP NAT binding (default 60)")
    run.add_argument("--serial", action="store_true",
                     help="one check after another (debugging); by default checks that "
                          "cannot disturb each other run at the same time")
    run.add_argument("--upload", metavar="URL",
                     help="send the output folder to the console at URL after the run "
                          "(token in $RECETTE_CONSOLE_TOKEN)")
    run.add_argument("--no-capture", action="store_true",
                     help="write no capture.pcapng of the run's SIP and RTP")
    run.add_argument("--channels", type=int, default=None, metavar="N",
                     help="sip.capacity places N calls at once instead of the trunk's ordered "
                          "channels (a one-off load test, e.g. with --only sip.capacity)")
    run.add_argument("--beyond-contract", action="store_true",
                     help="allow --channels above the channels the profile's trunks ordered "
                          "(calls beyond the contract are refused or billed on a real trunk)")
    run.set_defaults(func=cmd_run)

    demo = sub.add_parser("demo", help="lab up, every check, report, lab down")
    demo.add_argument("--alg", type=_on_off, default=False, metavar="on|off")
    demo.add_argument("--firewall", choices=FIREWALL_MODES, default="strict")
    demo.add_argument("--out", type=Path, default=None)
    demo.add_argument("--lang", choices=("fr", "en"), default="fr")
    demo.add_argument("--serial", action="store_true", help="one check after another")
    demo.add_argument("--no-capture", action="store_true", help="write no capture.pcapng")
    demo.set_defaults(func=cmd_demo)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except RecetteError as exc:
        for line in str(exc).splitlines() or ["failed"]:
            print(f"recette: {line}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("recette: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
