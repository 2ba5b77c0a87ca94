"""Site profiles: broken files give one-line errors naming file, line and field; no secret leaks.

Every file under ``tests/data/profiles/broken/`` is a mistake an integrator could plausibly make on
site, focused on one error; the table below pins the exact line(s) ``recette profile check``
prints for it.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from dataclasses import dataclass
from ipaddress import IPv4Address, IPv4Network
from pathlib import Path

import pytest
import yaml

from harness.profile import Lan, Profile, ProfileError, load_profile
from harness.yamlsrc import YamlSourceError

REPO = Path(__file__).resolve().parents[2]
BROKEN = REPO / "tests" / "data" / "profiles" / "broken"
GOOD = REPO / "tests" / "data" / "profiles" / "good"
EXAMPLE = REPO / "profiles" / "example.yaml"
INLINE = GOOD / "inline_secrets.yaml"

INLINE_SECRETS = ("Tr0nc-Secret-42", "Kx9-Centrex-101", "R0uter-Adm1n-77", "En4ble-S3cret-88")
EXAMPLE_ENV = ("RECETTE_TRUNK_MAIN_PASSWORD", "RECETTE_CENTREX101_PASSWORD",
               "RECETTE_ROUTER_PASSWORD")
DID_HINT = "expected a phone number in E.164 (+33123456789) or national (0123456789) form"


@dataclass(frozen=True)
class Case:
    """A broken profile and what checking it must print.

    ``lines`` are the error lines with the file path left out (each is appended to
    ``str(path)``); ``field`` is the dotted field path the error names (None for errors found
    before the YAML is a mapping); ``anchor`` is text expected on the source line it points at.
    """

    file: str
    lines: tuple[str, ...]
    field: str | None
    anchor: str | None

    def expected(self, path: Path | str) -> list[str]:
        return [f"{path}{rest}" for rest in self.lines]


CASES = (
    Case("yaml_syntax_error.yaml",
         (":17: YAML syntax error: expected ',' or ']', but got a value (while parsing a flow "
          "sequence started on line 16)",),
         None, "channels: 4"),
    Case("tab_indent.yaml",
         (":5: YAML syntax error: found character '\\t' that cannot start any token "
          "(indent with spaces, not tabs)",),
         None, "\tname: Rennes"),
    Case("empty.yaml",
         (": empty file, expected a site profile (a YAML mapping)",), None, None),
    Case("comments_only.yaml",
         (": empty file, expected a site profile (a YAML mapping)",), None, None),
    Case("top_level_list.yaml",
         (":1: expected a site profile (a YAML mapping), got a list",), None, "- customer:"),
    Case("duplicate_key.yaml",
         (":17: trunks[0].channels: duplicate key (first given on line 15)",),
         "trunks[0].channels", "channels: 10"),
    Case("typo_field.yaml",
         (":14: trunks[0].pasword: unknown field (did you mean 'password'?)",),
         "trunks[0].pasword", "pasword:"),
    Case("missing_operator.yaml",
         (":1: operator: required field is missing",), "operator", "customer:"),
    Case("bad_sip_ip.yaml",
         (":9: operator.sip_server.ip: expected an IPv4 address such as 198.51.100.10, "
          "got '198.51.100.310'",),
         "operator.sip_server.ip", "ip: 198.51.100.310"),
    Case("port_out_of_range.yaml",
         (":11: operator.sip_server.port: expected a number ≤ 65535, got '506000'",),
         "operator.sip_server.port", "port: 506000"),
    Case("router_kind.yaml",
         (":17: router.kind: expected one of 'opios' or 'cisco_ios', got 'mikrotik'",),
         "router.kind", "kind: mikrotik"),
    Case("both_passwords.yaml",
         (":12: trunks[0]: give exactly one of 'password' or 'password_env'",),
         "trunks[0]", "- name: trunk-main"),
    Case("no_password.yaml",
         (":16: router: give exactly one of 'password' or 'password_env'",),
         "router", "router:"),
    Case("password_not_text.yaml",
         (":15: centrex[0].password: expected text",),
         "centrex[0].password", "password: {"),
    Case("bad_siret.yaml",
         (":3: customer.siret: expected a 14-digit SIRET with a valid check digit",),
         "customer.siret", "siret: 732 829 320 00075"),
    Case("bad_did.yaml",
         (f":17: trunks[0].dids[1]: {DID_HINT}, got '02 99 00 00 2'",),
         "trunks[0].dids[1]", "02 99 00 00 2"),
    Case("channels_not_integer.yaml",
         (":16: trunks[0].channels: expected a whole number, got 'ten'",),
         "trunks[0].channels", "channels: ten"),
    Case("channels_zero.yaml",
         (":16: trunks[0].channels: expected a number ≥ 1, got '0'",),
         "trunks[0].channels", "channels: 0"),
    Case("decimal_comma.yaml",
         (":17: thresholds.loss_pct: expected a number, got '0,5'",),
         "thresholds.loss_pct", "loss_pct: 0,5"),
    Case("gateway_outside_lan.yaml",
         (":22: router.lans.data: gateway 192.168.1.1 is outside 192.168.10.0/24",),
         "router.lans.data", "data:"),
    Case("dhcp_covers_gateway.yaml",
         (":22: router.lans.data: DHCP range covers the gateway 192.168.10.1",),
         "router.lans.data", "data:"),
    Case("lans_overlap.yaml",
         (":21: router.lans: data LAN 192.168.0.0/16 and voice LAN 192.168.254.0/24 overlap",),
         "router.lans", "lans:"),
    Case("no_service.yaml",
         (":2: (top level): no service to accept: give at least one of 'trunks' or 'centrex'",),
         "(top level)", "customer:"),
    Case("bad_password_env_name.yaml",
         (":14: centrex[0].password_env: expected an environment variable name "
          "(letters, digits, _)",),
         "centrex[0].password_env", "password_env: RECETTE-CENTREX-101"),
)
CASES += (
    # The password pasted into the *_env field: the error must not echo it.
    Case("password_in_env_field.yaml",
         (":14: centrex[0].password_env: expected an environment variable name "
          "(letters, digits, _)",),
         "centrex[0].password_env", "password_env:"),
    Case("empty_password.yaml",
         (":14: centrex[0].password: expected a non-empty value",),
         "centrex[0].password", 'password: ""'),
)
CASE_IDS = [c.file.removesuffix(".yaml") for c in CASES]


def errors_of(path: Path | str, *, require_env: bool = False) -> list[str]:
    """The error lines loading ``path`` produces; fails the test if it loads."""
    try:
        load_profile(path, require_env=require_env)
    except ProfileError as exc:
        assert str(exc) == "\n".join(exc.lines)
        return exc.lines
    except YamlSourceError as exc:
        return str(exc).split("\n")
    pytest.fail(f"{path} loaded without error")


def run_cli(
    *args: str | Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run ``recette profile check ARGS`` as the integrator would, from the repo root."""
    return subprocess.run(
        [sys.executable, "-m", "harness.cli", "profile", "check", *map(str, args)],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=60, check=False,
    )


def env_without_recette() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("RECETTE_")}


# --- broken profiles -------------------------------------------------------------------------


def test_every_broken_file_has_a_case() -> None:
    on_disk = sorted(p.name for p in BROKEN.glob("*.yaml"))
    assert on_disk == sorted(c.file for c in CASES)
    assert len(on_disk) >= 12


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_broken_profile_gives_exact_error(case: Case) -> None:
    path = BROKEN / case.file
    assert errors_of(path) == case.expected(path)


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_error_is_one_line_naming_file_line_and_field(case: Case) -> None:
    path = BROKEN / case.file
    lines = errors_of(path)
    assert len(lines) == 1
    (line,) = lines
    assert "\n" not in line and "\r" not in line
    assert line.startswith(f"{path}: " if case.anchor is None else f"{path}:")
    if case.field is not None:
        assert re.fullmatch(rf"{re.escape(str(path))}:\d+: {re.escape(case.field)}: .+", line)
    if case.anchor is not None:
        m = re.match(rf"{re.escape(str(path))}:(\d+): ", line)
        assert m is not None, line
        source = path.read_text(encoding="utf-8").splitlines()
        assert case.anchor in source[int(m.group(1)) - 1]


def test_relative_path_is_printed_as_given(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(REPO)
    rel = Path("tests/data/profiles/broken/channels_zero.yaml")
    assert errors_of(rel) == [
        "tests/data/profiles/broken/channels_zero.yaml:16: trunks[0].channels: "
        "expected a number ≥ 1, got '0'"
    ]


def test_missing_file_is_one_line(tmp_path: Path) -> None:
    path = tmp_path / "nope.yaml"
    assert errors_of(path) == [f"{path}: no such file"]


def test_several_problems_give_one_line_each(tmp_path: Path) -> None:
    path = tmp_path / "two.yaml"
    text = (BROKEN / "channels_zero.yaml").read_text(encoding="utf-8")
    path.write_text(text.replace("ip: 198.51.100.10", "ip: 198.51.100"), encoding="utf-8")
    assert errors_of(path) == [
        f"{path}:9: operator.sip_server.ip: expected an IPv4 address such as 198.51.100.10, "
        "got '198.51.100'",
        f"{path}:16: trunks[0].channels: expected a number ≥ 1, got '0'",
    ]


# --- the real CLI ----------------------------------------------------------------------------


def test_cli_good_profile() -> None:
    res = run_cli("profiles/example.yaml")
    assert res.returncode == 0, res.stderr
    assert res.stdout == (
        "profiles/example.yaml: ok (1 trunk(s), 1 Centrex account(s), 3 number(s), "
        "router opios)\n"
    )
    assert res.stderr == ""


def test_cli_every_broken_profile() -> None:
    rels = [f"tests/data/profiles/broken/{c.file}" for c in CASES]
    res = run_cli(*rels)
    assert res.returncode == 1
    assert res.stdout == ""
    expected = [line for c, rel in zip(CASES, rels, strict=True) for line in c.expected(rel)]
    assert res.stderr.splitlines() == expected
    assert res.stderr.endswith("\n")
    assert "Traceback" not in res.stderr


def test_cli_mixed_good_and_broken() -> None:
    by_file = {c.file: c for c in CASES}
    broken = ["typo_field.yaml", "lans_overlap.yaml", "duplicate_key.yaml", "empty.yaml"]
    rels = [f"tests/data/profiles/broken/{f}" for f in broken]
    res = run_cli("profiles/example.yaml", *rels, "tests/data/profiles/good/inline_secrets.yaml")
    assert res.returncode == 1
    assert res.stdout.splitlines() == [
        "profiles/example.yaml: ok (1 trunk(s), 1 Centrex account(s), 3 number(s), "
        "router opios)",
        "tests/data/profiles/good/inline_secrets.yaml: ok (1 trunk(s), 1 Centrex account(s), "
        "7 number(s), router opios)",
    ]
    assert res.stderr.splitlines() == [
        line for f, rel in zip(broken, rels, strict=True) for line in by_file[f].expected(rel)
    ]


def test_cli_require_env_names_field_and_variable() -> None:
    res = run_cli("--require-env", "profiles/example.yaml", env=env_without_recette())
    assert res.returncode == 1
    assert res.stdout == ""
    assert res.stderr.splitlines() == [
        "profiles/example.yaml:27: trunks[0].password_env: "
        "environment variable RECETTE_TRUNK_MAIN_PASSWORD is not set",
        "profiles/example.yaml:33: centrex[0].password_env: "
        "environment variable RECETTE_CENTREX101_PASSWORD is not set",
        "profiles/example.yaml:39: router.password_env: "
        "environment variable RECETTE_ROUTER_PASSWORD is not set",
    ]


def test_cli_require_env_one_unset() -> None:
    env = env_without_recette()
    env["RECETTE_TRUNK_MAIN_PASSWORD"] = "Tr0nc-From-Env-1"
    env["RECETTE_ROUTER_PASSWORD"] = "R0uter-From-Env-2"
    res = run_cli("--require-env", "profiles/example.yaml", env=env)
    assert res.returncode == 1
    assert res.stderr == (
        "profiles/example.yaml:33: centrex[0].password_env: "
        "environment variable RECETTE_CENTREX101_PASSWORD is not set\n"
    )
    assert "From-Env" not in res.stdout + res.stderr


def test_cli_require_env_all_set() -> None:
    env = env_without_recette()
    env.update({name: f"secret-{i}-xyz" for i, name in enumerate(EXAMPLE_ENV)})
    res = run_cli("--require-env", "profiles/example.yaml", env=env)
    assert res.returncode == 0, res.stderr
    assert res.stdout.startswith("profiles/example.yaml: ok (")
    assert "secret-" not in res.stdout + res.stderr


def test_cli_without_require_env_ignores_unset_variables() -> None:
    res = run_cli("profiles/example.yaml", env=env_without_recette())
    assert res.returncode == 0, res.stderr


# --- secrets ---------------------------------------------------------------------------------


def test_inline_secrets_never_in_repr_str_or_json() -> None:
    prof = load_profile(INLINE)
    assert prof.trunks[0].secret() == "Tr0nc-Secret-42"  # loaded, just hidden
    assert prof.centrex[0].secret() == "Kx9-Centrex-101"
    assert prof.router is not None
    renderings = [
        repr(prof), str(prof), f"{prof}", prof.model_dump_json(), str(prof.model_dump()),
        repr(prof.trunks[0]), str(prof.centrex[0]), repr(prof.router), str(prof.router),
        repr(prof.router.password), str(prof.router.enable_secret),
    ]
    for text in renderings:
        for secret in INLINE_SECRETS:
            assert secret not in text
    assert sorted(prof.secrets()) == sorted(INLINE_SECRETS)


def test_cli_ok_line_never_shows_inline_secrets() -> None:
    res = run_cli("tests/data/profiles/good/inline_secrets.yaml")
    assert res.returncode == 0, res.stderr
    for secret in INLINE_SECRETS:
        assert secret not in res.stdout + res.stderr


def test_invalid_password_value_is_not_echoed() -> None:
    path = BROKEN / "password_not_text.yaml"
    (line,) = errors_of(path)
    assert line == f"{path}:15: centrex[0].password: expected text"
    assert "Kx9-Centrex-Leak" not in line
    res = run_cli("tests/data/profiles/broken/password_not_text.yaml")
    assert "Kx9-Centrex-Leak" not in res.stdout + res.stderr


@pytest.mark.parametrize(
    ("field", "value", "expected"),
    [
        ("password", "[Tr0nc-Secret-42]", "trunks[0].password: expected text"),
        ("password", "{Tr0nc: Secret-42}", "trunks[0].password: expected text"),
        ("enable_secret", "[En4ble-S3cret-88]", "router.enable_secret: expected text"),
    ],
)
def test_invalid_secret_field_never_echoed(
    tmp_path: Path, field: str, value: str, expected: str
) -> None:
    text = INLINE.read_text(encoding="utf-8")
    old = {
        "password": "password: Tr0nc-Secret-42",
        "enable_secret": "enable_secret: En4ble-S3cret-88",
    }[field]
    assert old in text
    path = tmp_path / "p.yaml"
    path.write_text(text.replace(old, f"{field}: {value}"), encoding="utf-8")
    (line,) = errors_of(path)
    assert line.split(": ", 1)[1] == expected
    assert "S3cret" not in line and "Secret" not in line


def test_require_env_in_process(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in EXAMPLE_ENV:
        monkeypatch.setenv(name, "Env-Secret-123")
    monkeypatch.delenv("RECETTE_ROUTER_PASSWORD")
    load_profile(EXAMPLE)  # unset variables only matter with require_env
    with pytest.raises(ProfileError) as info:
        load_profile(EXAMPLE, require_env=True)
    assert info.value.lines == [
        f"{EXAMPLE}:39: router.password_env: environment variable RECETTE_ROUTER_PASSWORD "
        "is not set"
    ]
    assert "Env-Secret-123" not in str(info.value)
    monkeypatch.setenv("RECETTE_ROUTER_PASSWORD", "Env-Secret-456")
    prof = load_profile(EXAMPLE, require_env=True)
    assert "Env-Secret" not in repr(prof) + prof.model_dump_json()
    assert prof.router is not None and prof.router.password is None


# --- positive behaviours ---------------------------------------------------------------------


def _assert_opios_lan(lan: Lan, third: int) -> None:
    assert lan.network == IPv4Network(f"192.168.{third}.0/24")
    assert lan.gateway == IPv4Address(f"192.168.{third}.1")
    assert lan.dhcp is not None
    assert lan.dhcp.start == IPv4Address(f"192.168.{third}.100")
    assert lan.dhcp.end == IPv4Address(f"192.168.{third}.200")
    assert lan.vlan is None


def test_opios_default_lans_when_absent() -> None:
    prof = load_profile(INLINE)
    assert prof.router is not None
    assert "lans" not in INLINE.read_text(encoding="utf-8")
    _assert_opios_lan(prof.router.lans.data, 1)
    _assert_opios_lan(prof.router.lans.voice, 254)


def test_lans_default_only_the_missing_one(tmp_path: Path) -> None:
    text = INLINE.read_text(encoding="utf-8") + (
        "  lans:\n"
        "    data:\n"
        "      network: 10.20.0.0/24\n"
        "      gateway: 10.20.0.254\n"
        "      vlan: 10\n"
    )
    path = tmp_path / "lans.yaml"
    path.write_text(text, encoding="utf-8")
    prof = load_profile(path)
    assert prof.router is not None
    assert prof.router.lans.data.network == IPv4Network("10.20.0.0/24")
    assert prof.router.lans.data.dhcp is None
    assert prof.router.lans.data.vlan == 10
    _assert_opios_lan(prof.router.lans.voice, 254)


def test_dids_normalised_and_leading_zero_kept() -> None:
    prof = load_profile(INLINE)
    assert prof.trunks[0].dids == [
        "0299000001", "+33299000002", "0299000003", "0299000004", "+33299000005", "0145670123",
    ]
    assert prof.centrex[0].did == "0123456789"
    assert prof.trunks[0].user == "0299000000"


def test_plain_yaml_would_have_mangled_those_numbers() -> None:
    """Why yamlsrc keeps scalars as text: YAML 1.1 resolves these as integers."""
    assert yaml.safe_load("[+33299000005, 0145670123]") == [33299000005, 0o145670123]


def test_auth_username_defaults_to_user() -> None:
    prof = load_profile(INLINE)
    assert prof.centrex[0].auth_user is None
    assert prof.centrex[0].auth_username == "centrex101"
    assert prof.trunks[0].auth_username == "trunk0299"


def test_good_profiles_load() -> None:
    for path in (EXAMPLE, INLINE):
        prof = load_profile(path)
        assert isinstance(prof, Profile)
    prof = load_profile(INLINE)
    assert prof.customer.siret == "73282932000074"
    assert prof.trunks[0].channels == 10
    assert prof.operator.sip_server.port == 5060
    assert prof.operator.sip_server.transport == "udp"


# --- vantage point over HTTPS (tls_ca) ----------------------------------------------------


def _with_outsider(tmp_path: Path, extra: str) -> Path:
    """INLINE plus an outsider probe with ``extra`` lines; returns the file to load."""
    path = tmp_path / "tls.yaml"
    path.write_text(INLINE.read_text(encoding="utf-8") + (
        "vantage_points:\n"
        "  outsider:\n"
        "    address: 203.0.113.66\n"
        "    key_env: RECETTE_PROBE_KEY\n" + extra), encoding="utf-8")
    return path


def _line(path: Path, text: str) -> int:
    """The number of the line of ``path`` that holds ``text`` (where the error points)."""
    lines = path.read_text(encoding="utf-8").splitlines()
    return next(n for n, line in enumerate(lines, 1) if text in line)


def _self_signed(tmp_path: Path) -> Path:
    crt = tmp_path / "probe.crt"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:prime256v1", "-nodes", "-days", "1", "-subj",
                    "/CN=203.0.113.66", "-addext", "subjectAltName=IP:203.0.113.66",
                    "-keyout", str(tmp_path / "probe.key"), "-out", str(crt)],
                   check=True, capture_output=True)
    return crt


def _at(path: Path, field: str = "tls_ca") -> str:
    """``file:line: vantage_points.outsider[.field]: `` as the error line starts."""
    dotted = "vantage_points.outsider" + (f".{field}" if field else "")
    return f"{path}:{_line(path, (field or 'outsider') + ':')}: {dotted}: "


def test_tls_ca_missing_file_is_one_line_naming_the_field(tmp_path: Path) -> None:
    missing = tmp_path / "nope.crt"
    path = _with_outsider(tmp_path, f"    tls_ca: {missing}\n")
    assert errors_of(path, require_env=True) == [
        f"{_at(path)}{missing}: no such file (the probe's certificate, PEM)"]
    # a plain check, or a run's saved copy reloaded on another machine, needs no file
    vp = load_profile(path).vantage_points.outsider
    assert vp is not None and vp.tls_ca == missing


def test_tls_ca_without_a_certificate_is_refused(tmp_path: Path) -> None:
    key_only = tmp_path / "probe.key"
    _self_signed(tmp_path)
    path = _with_outsider(tmp_path, f"    tls_ca: {key_only}\n")
    assert errors_of(path, require_env=True) == [
        f"{_at(path)}{key_only} holds no PEM certificate (-----BEGIN CERTIFICATE-----)"]
    damaged = tmp_path / "damaged.crt"
    damaged.write_text("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n")
    path = _with_outsider(tmp_path, f"    tls_ca: {damaged}\n")
    (line,) = errors_of(path, require_env=True)
    assert line.startswith(f"{_at(path)}{damaged} holds no valid PEM certificate (")
    path = _with_outsider(tmp_path, f"    tls_ca: {tmp_path}\n")
    assert errors_of(path, require_env=True) == [
        f"{_at(path)}{tmp_path} is a folder, expected a PEM certificate file"]


def test_tls_false_beside_tls_ca_is_a_contradiction(tmp_path: Path) -> None:
    crt = _self_signed(tmp_path)
    path = _with_outsider(tmp_path, f"    tls: false\n    tls_ca: {crt}\n")
    assert errors_of(path) == [
        f"{_at(path, '')}'tls: false' contradicts 'tls_ca' (a CA means HTTPS): remove one "
        "of them"]


def test_tls_context_verifies_the_address_with_tls_ca_or_the_system_store(
        tmp_path: Path) -> None:
    import ssl

    crt = _self_signed(tmp_path)
    vp = load_profile(_with_outsider(tmp_path, f"    tls_ca: {crt}\n")).vantage_points.outsider
    assert vp is not None and vp.tls_ca == crt and vp.uses_tls
    ctx = vp.ssl_context()
    assert ctx is not None
    assert ctx.check_hostname and ctx.verify_mode == ssl.CERT_REQUIRED
    assert ctx.minimum_version == ssl.TLSVersion.TLSv1_2
    assert [c["subject"] for c in ctx.get_ca_certs()] == [((("commonName", "203.0.113.66"),),)]

    plain = load_profile(_with_outsider(tmp_path, "")).vantage_points.outsider
    assert plain is not None and not plain.uses_tls and plain.ssl_context() is None
    system = load_profile(_with_outsider(tmp_path, "    tls: true\n")).vantage_points.outsider
    assert system is not None and system.tls_ca is None
    ctx = system.ssl_context()
    assert ctx is not None and ctx.check_hostname and ctx.verify_mode == ssl.CERT_REQUIRED


def test_a_relative_tls_ca_is_found_beside_the_profile(tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    crt = _self_signed(tmp_path)
    path = _with_outsider(tmp_path, "    tls_ca: probe.crt\n")
    monkeypatch.chdir("/")
    monkeypatch.setenv("RECETTE_PROBE_KEY", "k")
    vp = load_profile(path, require_env=True).vantage_points.outsider
    assert vp is not None and vp.tls_ca == crt
    ctx = vp.ssl_context()
    assert ctx is not None and len(ctx.get_ca_certs()) == 1


def _with_operator(tmp_path: Path, **fields: object) -> Path:
    data = yaml.safe_load(EXAMPLE.read_text())
    data["operator"].update(fields)
    path = tmp_path / "p.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


@pytest.mark.parametrize("number", ["3000", "*123#", "112", "+33899000000", "0899000000"])
def test_a_short_code_or_a_did_is_a_test_number(tmp_path: Path, number: str) -> None:
    prof = load_profile(_with_operator(tmp_path, test_number=number))
    assert prof.operator.test_number == number


@pytest.mark.parametrize("number", ["3", "30a0", "123456789012", "0123"])
def test_a_test_number_that_is_neither_is_one_line_naming_the_field(
        tmp_path: Path, number: str) -> None:
    with pytest.raises(ProfileError) as exc:
        load_profile(_with_operator(tmp_path, test_number=number))
    (line,) = exc.value.lines
    assert "operator.test_number" in line and "short code" in line


def test_operator_addresses_by_role(tmp_path: Path) -> None:
    """Registrar, edge proxy and media relay: every address the firewall must admit, with
    its roles; one address playing two roles is named once."""
    prof = load_profile(_with_operator(
        tmp_path, signalling_ips=["198.51.100.11"],
        media_ips=["198.51.100.30", "198.51.100.11"]))
    assert {str(ip): roles for ip, roles in prof.operator.addresses().items()} == {
        "198.51.100.10": ("registrar",), "198.51.100.11": ("signalling", "media"),
        "198.51.100.30": ("media",)}
    assert {str(ip) for ip in prof.operator.sources()} == {
        "198.51.100.10", "198.51.100.11", "198.51.100.30"}
    one = load_profile(EXAMPLE).operator
    assert {str(ip) for ip in one.sources()} == {"198.51.100.10"}


def test_a_signalling_address_that_is_not_one_names_the_field(tmp_path: Path) -> None:
    with pytest.raises(ProfileError) as exc:
        load_profile(_with_operator(tmp_path, signalling_ips=["edge.example"]))
    (line,) = exc.value.lines
    assert "operator.signalling_ips[0]" in line and "IPv4" in line
