"""``recette probe cert`` and the profile's ``tls_ca``, over real TLS (harness/probe/cert.py,
harness/profile.py, sip_checks/session.py): the generated certificate is what a site agent
pins, so the whole path is run: the real probe serving it, a profile naming it, the client
the checks get. No mock: a wrong certificate must fail exactly as it would on site."""

from __future__ import annotations

import os
import secrets
import stat
import threading
from collections.abc import Iterator
from ipaddress import IPv4Address
from pathlib import Path

import pytest

from harness.cli import main
from harness.errors import CheckError
from harness.messages import Msg
from harness.probe import cert
from harness.probe.client import ProbeClient
from harness.probe.server import ProbeConfig, ProbeServer
from harness.profile import Profile, load_profile
from sip_checks.session import probe_client

REPO = Path(__file__).resolve().parents[2]
INLINE = REPO / "tests" / "data" / "profiles" / "good" / "inline_secrets.yaml"
KEY = secrets.token_hex(16)
HERE = IPv4Address("127.0.0.1")


def _serve(files: cert.CertFiles | None) -> ProbeServer:
    """The real probe with its HTTPS front (as test_probe_http starts it), on a free port;
    ``files`` None: plain HTTP, as a probe started without --tls-cert."""
    srv = ProbeServer(ProbeConfig(control=(str(HERE), 0), send_from=None, key=KEY.encode(),
                                  sip_listen=False,
                                  tls=(files.cert, files.key) if files else None,
                                  request_timeout_s=1.0))
    threading.Thread(target=srv.serve_forever, args=(0.05,), daemon=True).start()
    return srv


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[ProbeServer, cert.CertFiles]]:
    """A probe serving a certificate `recette probe cert` made for 127.0.0.1."""
    (tmp_path / "probe").mkdir()
    files = cert.write(HERE, tmp_path / "probe")
    srv = _serve(files)
    try:
        yield srv, files
    finally:
        srv.shutdown()


def _profile(tmp_path: Path, port: int, vantage: str) -> Profile:
    """A profile whose outsider is the probe on ``port``; ``vantage`` is extra YAML lines
    for it (tls_ca, tls), loaded from a file as `recette run` loads it."""
    text = INLINE.read_text(encoding="utf-8") + (
        "vantage_points:\n"
        "  outsider:\n"
        f"    address: {HERE}\n"
        f"    control_port: {port}\n"
        f"    key: {KEY}\n" + vantage)
    path = tmp_path / "site.yaml"
    path.write_text(text, encoding="utf-8")
    return load_profile(path)


def _refusal(tmp_path: Path, port: int, vantage: str) -> Msg:
    """The check error an agent whose profile says ``vantage`` gets asking the probe on
    ``port`` who it is."""
    prof = _profile(tmp_path, port, vantage)
    with pytest.raises(CheckError) as caught:
        probe_client(prof, "outsider").post("/whoami", {})
    return caught.value.message


def test_generated_certificate_works_end_to_end(
        tmp_path: Path, served: tuple[ProbeServer, cert.CertFiles]) -> None:
    srv, files = served
    prof = _profile(tmp_path, srv.server_address[1], f"    tls_ca: {files.cert}\n")
    vp = prof.vantage_points.outsider
    assert vp is not None and vp.uses_tls
    client = probe_client(prof, "outsider")
    assert client.tls is not None
    assert client.post("/whoami", {})["requester"] == str(HERE)


def test_key_is_owner_only_and_the_certificate_names_the_address(tmp_path: Path) -> None:
    from cryptography import x509

    old = os.umask(0o000)  # the key's mode must not depend on the umask
    try:
        files = cert.write(IPv4Address("203.0.113.66"), tmp_path, days=30)
    finally:
        os.umask(old)
    assert stat.S_IMODE(files.key.stat().st_mode) == 0o600
    assert files.cert.name == "probe-203.0.113.66.crt"
    crt = x509.load_pem_x509_certificate(files.cert.read_bytes())
    san = crt.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert san.get_values_for_type(x509.IPAddress) == [IPv4Address("203.0.113.66")]
    assert crt.subject.rfc4514_string() == "CN=203.0.113.66"
    assert (crt.not_valid_after_utc - crt.not_valid_before_utc).days == 30


def test_another_certificate_as_tls_ca_is_unreachable_with_the_ssl_reason(
        tmp_path: Path, served: tuple[ProbeServer, cert.CertFiles]) -> None:
    srv, _ = served
    (tmp_path / "other").mkdir()
    other = cert.write(HERE, tmp_path / "other")  # same address, another key: not the probe's
    message = _refusal(tmp_path, srv.server_address[1], f"    tls_ca: {other.cert}\n")
    assert message.code == "PROBE_TLS_REJECTED"
    assert "self-signed certificate" in str(message) and "_ssl.c" not in str(message)


def test_certificate_without_the_probes_address_is_refused(tmp_path: Path) -> None:
    """The probe serves a certificate made for another address; even pinned, it does not
    prove it is the probe the profile names (the IP SAN is checked)."""
    (tmp_path / "elsewhere").mkdir()
    files = cert.write(IPv4Address("192.0.2.7"), tmp_path / "elsewhere")
    srv = _serve(files)
    try:
        message = _refusal(tmp_path, srv.server_address[1], f"    tls_ca: {files.cert}\n")
    finally:
        srv.shutdown()
    assert message.code == "PROBE_TLS_REJECTED"
    assert "IP address mismatch" in str(message)


def test_system_trust_store_does_not_trust_a_self_signed_probe(
        tmp_path: Path, served: tuple[ProbeServer, cert.CertFiles]) -> None:
    """``tls: true`` without tls_ca verifies against the system CAs: a self-signed probe
    is refused there (verification is never switched off)."""
    srv, _ = served
    message = _refusal(tmp_path, srv.server_address[1], "    tls: true\n")
    assert message.code == "PROBE_TLS_REJECTED"
    assert "self-signed certificate" in str(message)


def test_plain_http_client_against_the_tls_probe_fails_clearly(
        tmp_path: Path, served: tuple[ProbeServer, cert.CertFiles]) -> None:
    srv, _ = served
    prof = _profile(tmp_path, srv.server_address[1], "")  # the profile forgot tls_ca
    client = probe_client(prof, "outsider")
    assert client.tls is None
    with pytest.raises(CheckError) as caught:
        client.post("/whoami", {})
    text = str(caught.value.message)
    # the front answers plain HTTP with a 400 that names the cure
    assert caught.value.message.code == "PROBE_REFUSED"
    assert f"{HERE}:{srv.server_address[1]}" in text
    assert "serves HTTPS (TLS) on this port" in text and "(tls_ca)" in text
    # and the direct client, as test_probe_http uses it, is told the same
    with pytest.raises(CheckError, match="serves HTTPS"):
        ProbeClient(*srv.server_address, KEY.encode(), timeout=5).post("/whoami", {})


def test_a_pinned_profile_against_a_plain_http_probe_says_so(tmp_path: Path) -> None:
    """The profile pins a certificate but the probe was started without --tls-cert: the
    error says the probe answers plain HTTP and the two ways out, not a TLS riddle."""
    (tmp_path / "probe").mkdir()
    files = cert.write(HERE, tmp_path / "probe")
    srv = _serve(None)
    try:
        message = _refusal(tmp_path, srv.server_address[1], f"    tls_ca: {files.cert}\n")
    finally:
        srv.shutdown()
    # the probe waits for a request line, then closes
    assert message.code == "PROBE_UNREACHABLE"
    assert "a probe serving plain HTTP (no `--tls-cert`) does that to HTTPS" in str(message)
    assert "_ssl.c" not in str(message)
    assert "une sonde servie en HTTP simple" in message.render("fr")


def test_https_to_a_server_answering_plain_http_says_so(tmp_path: Path) -> None:
    """A plain HTTP server that answers our hello with an HTTP error (a reverse proxy, an
    older probe) is named for what it is."""
    import http.server

    class Quiet(http.server.BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            pass

    web = http.server.HTTPServer((str(HERE), 0), Quiet)
    threading.Thread(target=web.serve_forever, args=(0.05,), daemon=True).start()
    (tmp_path / "probe").mkdir()
    files = cert.write(HERE, tmp_path / "probe")
    try:
        message = _refusal(tmp_path, web.server_address[1], f"    tls_ca: {files.cert}\n")
    finally:
        web.shutdown()
        web.server_close()
    assert message.code == "PROBE_PLAIN_HTTP"
    assert "answers plain HTTP, not HTTPS" in str(message) and "_ssl.c" not in str(message)
    assert "répond en HTTP simple" in message.render("fr")


def test_ca_unreadable_at_run_time_is_a_check_error(
        tmp_path: Path, served: tuple[ProbeServer, cert.CertFiles]) -> None:
    """The profile loaded with a good tls_ca, which was then replaced: the check says which
    field and file, not a traceback."""
    srv, files = served
    ca = tmp_path / "ca.pem"
    ca.write_bytes(files.cert.read_bytes())
    prof = _profile(tmp_path, srv.server_address[1], f"    tls_ca: {ca}\n")
    ca.write_text("not a certificate\n", encoding="ascii")
    with pytest.raises(CheckError) as caught:
        probe_client(prof, "outsider")
    message = caught.value.message
    assert message.code == "PROBE_TLS_CA"
    text = str(message)  # the OpenSSL reason in the middle varies with its version
    assert text.startswith(f"vantage_points.outsider.tls_ca: cannot use {ca} to verify the "
                           "probe's certificate (")
    assert text.endswith("): give the probe's certificate (PEM) made by `recette probe "
                         "cert`, or the CA that signed it")
    assert "_ssl.c" not in text
    assert "\n" not in str(message) and "\n" not in message.render("fr")
    ca.unlink()
    with pytest.raises(CheckError) as caught:
        probe_client(prof, "outsider")
    assert caught.value.message.code == "PROBE_TLS_CA"
    assert "No such file" in str(caught.value.message)


def test_cli_writes_the_pair_and_refuses_to_overwrite(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["probe", "cert", "--address", "198.51.100.20", "--out", str(tmp_path),
                 "--days", "90"]) == 0
    out = capsys.readouterr().out
    crt, key = tmp_path / "probe-198.51.100.20.crt", tmp_path / "probe-198.51.100.20.key"
    assert f"tls_ca: {crt.resolve()}" in out
    assert f"--tls-cert {crt.resolve()} --tls-key {key.resolve()}" in out
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    before = (crt.read_bytes(), key.read_bytes())

    assert main(["probe", "cert", "--address", "198.51.100.20", "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err == (f"recette: {crt} exists (a probe may be serving it and sites pin it); "
                   "remove it or choose another --out\n")
    assert (crt.read_bytes(), key.read_bytes()) == before

    crt.unlink()  # the key alone left behind is refused too, and no certificate is written
    assert main(["probe", "cert", "--address", "198.51.100.20", "--out", str(tmp_path)]) == 2
    assert str(key) in capsys.readouterr().err
    assert not crt.exists()


def test_cli_refuses_a_bad_address_or_folder(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["probe", "cert", "--address", "probe.example", "--out", str(tmp_path)]) == 2
    assert capsys.readouterr().err == ("recette: --address: expected the probe's IPv4 "
                                       "address, got 'probe.example'\n")
    assert main(["probe", "cert", "--address", "192.0.2.1", "--out",
                 str(tmp_path / "nope")]) == 2
    assert capsys.readouterr().err == f"recette: --out: folder {tmp_path / 'nope'} does not " \
                                      "exist\n"
    assert list(tmp_path.iterdir()) == []


def test_cli_name_writes_the_files_the_https_drop_in_loads(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from harness.probe.deploy import credentials

    assert main(["probe", "cert", "--address", "198.51.100.20", "--out", str(tmp_path),
                 "--name", "probe"]) == 0
    capsys.readouterr()
    wanted = {source.name for source in credentials().values()}
    assert {p.name for p in tmp_path.iterdir()} == wanted == {"probe.crt", "probe.key"}
    for bad in ("../probe", ".hidden", ""):
        assert main(["probe", "cert", "--address", "198.51.100.20", "--out", str(tmp_path),
                     "--name", bad]) == 2
        assert capsys.readouterr().err == f"recette: --name: {bad!r} is not a plain file name\n"
