"""The site profile: what was sold to the customer and how to reach it, validated up front.

A profile is the contract the checks verify (accounts, DIDs, channels, the operator server and
the expected LAN plan). It is loaded from YAML with :func:`load_profile`; any problem comes back
as :class:`ProfileError` whose lines each read ``file:line: field.path: what was expected``.
Secrets are :class:`pydantic.SecretStr` or the name of an environment variable; neither the
model's repr nor an error message ever contains them.
"""

from __future__ import annotations

import contextlib
import difflib
import os
import re
import ssl
from collections.abc import Mapping
from ipaddress import IPv4Address, IPv4Network
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    StringConstraints,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from harness import rooms, yamlsrc
from harness.errors import RecetteError, ssl_reason

SECRET_FIELDS = frozenset({"password", "enable_secret", "token"})

NonEmpty = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
Hostname = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True,
        max_length=253,
        pattern=r"^([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)*"
        r"[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$",
    ),
]
Port = Annotated[int, Field(ge=1, le=65535)]
Secret = Annotated[SecretStr, Field(min_length=1)]
EnvName = Annotated[str, StringConstraints(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")]

_DID = re.compile(r"^(\+[1-9]\d{6,14}|0[1-9]\d{8})$")


def _check_did(v: str) -> str:
    compact = re.sub(r"[\s.\-]", "", v)
    if not _DID.fullmatch(compact):
        raise ValueError(
            f"expected a phone number in E.164 (+33123456789) or national (0123456789) form, "
            f"got {v!r}"
        )
    return compact


Did = Annotated[str, AfterValidator(_check_did)]


class ProfileError(RecetteError):
    """One or more problems in a profile; ``lines`` holds one self-contained line per problem."""

    def __init__(self, lines: list[str]) -> None:
        super().__init__("\n".join(lines))
        self.lines = lines


class _Model(BaseModel):
    """Common config: unknown keys are errors (a typo must not silently drop a setting)."""

    model_config = ConfigDict(extra="forbid", frozen=True, coerce_numbers_to_str=True)


def normalise_siret(siret: str) -> str:
    """A SIRET as written (``732 829 320 00074``, ``732.829.320-00074``) reduced to its
    characters without spaces, dots and dashes: the agent's gate record and the console
    name a site by it, so both must write one SIRET one way."""
    return re.sub(r"[\s.\-]", "", siret)


def siret_is_valid(siret: str) -> bool:
    """Luhn check of a 14-digit SIRET (La Poste's establishments use a digit-sum rule)."""
    if not re.fullmatch(r"\d{14}", siret):
        return False
    if siret.startswith("356000000"):
        return sum(int(c) for c in siret) % 5 == 0
    total = 0
    for i, c in enumerate(reversed(siret)):
        d = int(c) * (2 if i % 2 else 1)
        total += d - 9 if d > 9 else d
    return total % 10 == 0


class Customer(_Model):
    """Who signs the acceptance sheet on the customer side, and who installed."""

    name: NonEmpty
    siret: str | None = None
    integrator: NonEmpty
    technician: str | None = None

    @field_validator("siret")
    @classmethod
    def _siret(cls, v: str | None) -> str | None:
        if v is None:
            return v
        digits = normalise_siret(v)
        if not siret_is_valid(digits):
            raise ValueError("expected a 14-digit SIRET with a valid check digit")
        return digits


class Site(_Model):
    """The delivered site (a customer may have several profiles, one per site)."""

    name: NonEmpty
    address: NonEmpty


class SipServer(_Model):
    """The operator's SIP server the site registers to (its IP is what the firewall allows)."""

    ip: IPv4Address
    domain: Hostname
    port: Port = 5060
    transport: Literal["udp", "tcp"] = "udp"


_SHORT_CODE = re.compile(r"^[0-9*#]{2,8}$")


def _check_test_number(v: str) -> str:
    """A DID, or an operator's short code (``3000``, ``*123#``): test lines are often one."""
    compact = re.sub(r"[\s.\-]", "", v)
    if _SHORT_CODE.fullmatch(compact) and not compact.startswith("0"):
        return compact
    try:
        return _check_did(v)
    except ValueError:
        raise ValueError(
            f"expected a phone number in E.164 (+33123456789) or national (0123456789) form, "
            f"or a short code of 2 to 8 digits, * or # (3000), got {v!r}") from None


TestNumber = Annotated[str, AfterValidator(_check_test_number)]

# The roles an operator's address plays, in the order the evidence names them.
ROLES = ("registrar", "signalling", "media")
SIP_PORT = 5060
RTP_RANGE = range(10000, 20001)


def role_needs(addresses: Mapping[IPv4Address, tuple[str, ...]]
               ) -> dict[IPv4Address, frozenset[int]]:
    """The voice ports each operator address needs open to new inbound flows, by its roles;
    the one rule the router audit, the cross-check and the firewall check all apply:

    - the registrar: UDP 5060, as the handbook asks of "the operator server"; and UDP
      10000-20000 too when no address has the media role (it is then the only documented
      source of the operator's media);
    - a signalling address (edge proxy, SBC sending the INVITEs): UDP 5060;
    - a media address (relay): UDP 10000-20000;
    - an address with several roles: the union."""
    media_named = any("media" in roles for roles in addresses.values())
    out: dict[IPv4Address, frozenset[int]] = {}
    for ip, roles in addresses.items():
        need: set[int] = set()
        if "registrar" in roles or "signalling" in roles:
            need.add(SIP_PORT)
        if "media" in roles or ("registrar" in roles and not media_named):
            need.update(RTP_RANGE)
        out[ip] = frozenset(need)
    return out


class Operator(_Model):
    """The operator side, its addresses by role: the registrar (``sip_server``, where the site
    registers), the other addresses its SIP requests come from (``signalling_ips``: an edge
    proxy or SBC that sends the INVITEs) and its media sources (``media_ips``: a media relay).
    The firewall must admit every one of them and nothing else, so every check, the audit and
    the cross-check read them from :meth:`addresses`."""

    name: NonEmpty = "OpenIP"
    sip_server: SipServer
    signalling_ips: list[IPv4Address] = []
    media_ips: list[IPv4Address] = []
    test_number: TestNumber | None = None  # where outbound test calls go (an echo or test line)
    # What the test number does with our audio: sends it back (echo) or plays its own
    # (announcement); unset, the outbound check tells from what comes back and says so.
    test_number_kind: Literal["echo", "announcement"] | None = None
    # How many calls per second the operator accepts from one trunk (operators limit call
    # set-up rates; SIPp's -r): the capacity check sets its calls up no faster.
    max_cps: Annotated[float, Field(gt=0, le=100)] = 5.0

    def addresses(self) -> dict[IPv4Address, tuple[str, ...]]:
        """Every address the operator uses, with its roles (an address may play several)."""
        out: dict[IPv4Address, list[str]] = {self.sip_server.ip: ["registrar"]}
        for role, ips in (("signalling", self.signalling_ips), ("media", self.media_ips)):
            for ip in ips:
                roles = out.setdefault(ip, [])
                if role not in roles:
                    roles.append(role)
        return {ip: tuple(r) for ip, r in out.items()}

    def needs(self) -> dict[IPv4Address, frozenset[int]]:
        """The voice ports each address needs open (:func:`role_needs`)."""
        return role_needs(self.addresses())

    def sources(self) -> frozenset[IPv4Address]:
        """The addresses the site's firewall must admit on UDP 5060 and 10000-20000."""
        return frozenset(self.addresses())


class Account(_Model):
    """A SIP identity with digest credentials: inline ``password`` or ``password_env``."""

    user: NonEmpty
    auth_user: str | None = None
    password: Secret | None = None
    password_env: EnvName | None = None

    @model_validator(mode="after")
    def _one_secret(self) -> Account:
        if (self.password is None) == (self.password_env is None):
            raise ValueError("give exactly one of 'password' or 'password_env'")
        return self

    @property
    def auth_username(self) -> str:
        """Digest username; defaults to the SIP user as most operators issue them."""
        return self.auth_user or self.user

    def secret(self) -> str:
        """The password in clear, for the digest computation only; never log the result."""
        if self.password is not None:
            return self.password.get_secret_value()
        assert self.password_env is not None
        try:
            return os.environ[self.password_env]
        except KeyError:
            raise RecetteError(
                f"{self.user}: environment variable {self.password_env} is not set"
            ) from None




class Trunk(Account):
    """A SIP trunk: its DIDs (numbers that must ring inbound) and ordered channel count."""

    name: NonEmpty
    dids: list[Did] = []
    channels: Annotated[int, Field(ge=1, le=1000)] = 2


class CentrexAccount(Account):
    """A hosted-PBX (Centrex) user account: one registration, one number."""

    name: NonEmpty
    did: Did | None = None


class DhcpRange(_Model):
    """A DHCP pool, inclusive."""

    start: IPv4Address
    end: IPv4Address

    @model_validator(mode="after")
    def _ordered(self) -> DhcpRange:
        if int(self.start) > int(self.end):
            raise ValueError(f"start {self.start} is after end {self.end}")
        return self


class Lan(_Model):
    """An expected LAN of the site: addressing, gateway, DHCP pool, optional VLAN id."""

    network: IPv4Network
    gateway: IPv4Address
    dhcp: DhcpRange | None = None
    vlan: Annotated[int, Field(ge=1, le=4094)] | None = None

    @model_validator(mode="after")
    def _consistent(self) -> Lan:
        if self.gateway not in self.network:
            raise ValueError(f"gateway {self.gateway} is outside {self.network}")
        if self.dhcp is not None:
            for end in (self.dhcp.start, self.dhcp.end):
                if end not in self.network:
                    raise ValueError(f"DHCP range end {end} is outside {self.network}")
            if int(self.dhcp.start) <= int(self.gateway) <= int(self.dhcp.end):
                raise ValueError(f"DHCP range covers the gateway {self.gateway}")
        return self


def _opios_lan(third: int) -> Lan:
    return Lan(
        network=IPv4Network(f"192.168.{third}.0/24"),
        gateway=IPv4Address(f"192.168.{third}.1"),
        dhcp=DhcpRange(
            start=IPv4Address(f"192.168.{third}.100"), end=IPv4Address(f"192.168.{third}.200")
        ),
    )


class Lans(_Model):
    """Data and voice LANs; defaults are the OpIOS router's defaults (operator handbook §I)."""

    data: Lan = Field(default_factory=lambda: _opios_lan(1))
    voice: Lan = Field(default_factory=lambda: _opios_lan(254))
    # True when the site's policy says the LANs must not reach each other freely: the audit
    # then fails a router that permits any traffic between them.
    isolated: bool = False

    @model_validator(mode="after")
    def _disjoint(self) -> Lans:
        if self.data.network.overlaps(self.voice.network):
            raise ValueError(
                f"data LAN {self.data.network} and voice LAN {self.voice.network} overlap"
            )
        return self


class Router(_Model):
    """The site router the audit logs into (SSH): OpIOS (Linux) or Cisco IOS."""

    kind: str  # a key of the router-kind table (checked below)
    host: NonEmpty
    port: Port = 22
    username: NonEmpty
    password: Secret | None = None
    password_env: EnvName | None = None
    enable_secret: Secret | None = None
    enable_secret_env: EnvName | None = None
    model: str | None = None
    lans: Lans = Field(default_factory=Lans)
    ipbx: IPv4Address | None = None  # where voice ports must be forwarded
    dhcp_config: str = "/etc/dnsmasq.conf"  # OpIOS: the DHCP server's configuration file

    @field_validator("kind")
    @classmethod
    def _known_kind(cls, value: str) -> str:
        """The kinds are the router room's table, read through the rooms (one line there
        adds a kind); the error reads as a Literal's would."""
        kinds = list(rooms.load(rooms.ROUTER_KINDS).KINDS)
        if value not in kinds:
            quoted = [repr(k) for k in kinds]
            expected = (", ".join(quoted[:-1]) + " or " + quoted[-1]) if len(quoted) > 1 \
                else "".join(quoted)
            raise PydanticCustomError("literal_error", "Input should be {expected}",
                                      {"expected": expected})
        return value

    @model_validator(mode="after")
    def _one_password(self) -> Router:
        if (self.password is None) == (self.password_env is None):
            raise ValueError("give exactly one of 'password' or 'password_env'")
        if self.enable_secret is not None and self.enable_secret_env is not None:
            raise ValueError("give at most one of 'enable_secret' or 'enable_secret_env'")
        return self


def _pem_certificates(path: Path, info: ValidationInfo) -> Path:
    """A ``tls_ca`` names a readable file holding at least one PEM certificate.

    A relative path is taken from the profile's folder (the certificate travels with the
    site's profile), when the profile is loaded from a file. The file itself is checked when
    the profile is loaded for a run (``require_env``: everything the run needs must be here),
    so `recette profile check --require-env` says so on site, not a TLS error in the middle
    of a run; a plain `profile check`, or a run's saved copy reloaded by `recette audit` on
    another machine, does not need the file. The certificates are parsed by :mod:`ssl`
    itself (what the client will load), so a file with the markers but a damaged body is
    refused too."""
    ctx = info.context if isinstance(info.context, dict) else {}
    base = ctx.get("base")
    if isinstance(base, Path) and not path.is_absolute():
        path = base / path
    if not ctx.get("files"):
        return path
    try:
        text = path.read_text(encoding="ascii", errors="replace")
    except IsADirectoryError:
        raise ValueError(f"{path} is a folder, expected a PEM certificate file") from None
    except FileNotFoundError:
        raise ValueError(f"{path}: no such file (the probe's certificate, PEM)") from None
    except OSError as exc:
        raise ValueError(f"{path}: cannot read: {exc.strerror}") from None
    if "-----BEGIN CERTIFICATE-----" not in text:
        raise ValueError(f"{path} holds no PEM certificate (-----BEGIN CERTIFICATE-----)")
    try:
        ssl.create_default_context().load_verify_locations(cadata=text)
    except (ssl.SSLError, ValueError) as exc:
        raise ValueError(f"{path} holds no valid PEM certificate ({ssl_reason(exc)})") \
            from None
    return path


class VantagePoint(_Model):
    """A probe service (``recette probe serve``) on the internet side: its control address,
    the shared key that authenticates the site agent to it, and, for a probe serving its
    control channel over HTTPS (``--tls-cert``), what to verify its certificate against."""

    address: IPv4Address
    control_port: Port = 5099
    key: Secret | None = None
    key_env: EnvName | None = None
    # HTTPS to the probe: ``tls_ca`` is the probe's own self-signed certificate (`recette
    # probe cert`) or the CA that signed it, and implies ``tls``; ``tls: true`` alone trusts
    # the system's CAs. Either way the certificate must carry the address as an IP SAN.
    tls: bool = False
    tls_ca: Annotated[Path, AfterValidator(_pem_certificates)] | None = None

    @model_validator(mode="after")
    def _tls_consistent(self) -> VantagePoint:
        """``tls: false`` written beside a ``tls_ca`` is a contradiction: refuse it rather
        than guess which one the integrator meant."""
        if self.tls_ca is not None and "tls" in self.model_fields_set and not self.tls:
            raise ValueError("'tls: false' contradicts 'tls_ca' (a CA means HTTPS): "
                             "remove one of them")
        return self

    @property
    def uses_tls(self) -> bool:
        """Whether the control channel is HTTPS (``tls`` or a ``tls_ca``)."""
        return self.tls or self.tls_ca is not None

    def ssl_context(self) -> ssl.SSLContext | None:
        """The client context for an HTTPS probe, None for plain HTTP.

        Verification is never turned off: the host name checked is the profile's IP address
        (``http.client`` passes it as server_hostname, and :mod:`ssl` then matches it against
        the certificate's IP SANs), TLS 1.2 at least, as the probe's front requires. Raises
        OSError / ssl.SSLError when the CA file cannot be read at run time (it was checked at
        load, but may have changed since); the caller turns that into a check error."""
        if not self.uses_tls:
            return None
        ctx = ssl.create_default_context(
            cafile=str(self.tls_ca) if self.tls_ca is not None else None)
        ctx.minimum_version = ssl.TLSVersion.TLSv1_2
        return ctx

    def secret(self) -> bytes | None:
        """The key, or None when the profile gives none (the probe cannot be used)."""
        if self.key is not None:
            return self.key.get_secret_value().encode()
        if self.key_env and self.key_env in os.environ:
            return os.environ[self.key_env].encode()
        return None


class VantagePoints(_Model):
    """The operator's server-side probe and an outsider (any other internet address)."""

    server: VantagePoint | None = None
    outsider: VantagePoint | None = None


class Thresholds(_Model):
    """Voice-quality limits (ITU-T G.114/G.107 guidance); override per site if sold otherwise."""

    loss_pct: Annotated[float, Field(ge=0, le=100)] = 1.0
    jitter_ms: Annotated[float, Field(gt=0)] = 30.0
    one_way_delay_ms: Annotated[float, Field(gt=0)] = 150.0
    r_pass: Annotated[float, Field(ge=0, le=100)] = 80.0
    r_warn: Annotated[float, Field(ge=0, le=100)] = 70.0

    @model_validator(mode="after")
    def _ordered(self) -> Thresholds:
        if self.r_warn > self.r_pass:
            raise ValueError(f"r_warn {self.r_warn} is above r_pass {self.r_pass}")
        return self


class LabBinding(_Model):
    """Present only in the lab's generated profile: where the lab's hosts live."""

    prefix: NonEmpty
    agent_netns: NonEmpty
    namespaces: dict[str, str] = {}


class Profile(_Model):
    """A whole site profile (see ``profiles/example.yaml``)."""

    customer: Customer
    site: Site
    operator: Operator
    trunks: list[Trunk] = []
    centrex: list[CentrexAccount] = []
    router: Router | None = None
    vantage_points: VantagePoints = Field(default_factory=VantagePoints)
    thresholds: Thresholds = Field(default_factory=Thresholds)
    lab: LabBinding | None = None

    @model_validator(mode="after")
    def _services(self) -> Profile:
        if not self.trunks and not self.centrex:
            raise ValueError("no service to accept: give at least one of 'trunks' or 'centrex'")
        names = [a.name for a in self.accounts()]
        dup = sorted({n for n in names if names.count(n) > 1})
        if dup:
            raise ValueError(f"account names must be unique, repeated: {', '.join(dup)}")
        return self

    def accounts(self) -> list[Trunk | CentrexAccount]:
        """Every registrable account, trunks first."""
        return [*self.trunks, *self.centrex]

    def missing_env(self) -> list[tuple[tuple[str | int, ...], str]]:
        """``(field loc, variable)`` for each ``*_env`` secret whose variable is unset."""
        out: list[tuple[tuple[str | int, ...], str]] = []
        for section, items in (("trunks", self.trunks), ("centrex", self.centrex)):
            for i, acc in enumerate(items):
                if acc.password_env and acc.password_env not in os.environ:
                    out.append(((section, i, "password_env"), acc.password_env))
        if self.router is not None:
            for fld in ("password_env", "enable_secret_env"):
                var = getattr(self.router, fld)
                if var and var not in os.environ:
                    out.append((("router", fld), var))
        return out

    def secrets(self) -> list[str]:
        """Every secret value this profile can resolve, for redaction of logs and reports."""
        found: list[str] = []
        for acc in self.accounts():
            with contextlib.suppress(RecetteError):
                found.append(acc.secret())
        for vp in (self.vantage_points.server, self.vantage_points.outsider):
            key = vp.secret() if vp is not None else None
            if key:
                found.append(key.decode())
        if self.router is not None:
            for inline, env in (
                (self.router.password, self.router.password_env),
                (self.router.enable_secret, self.router.enable_secret_env),
            ):
                if inline is not None:
                    found.append(inline.get_secret_value())
                elif env and env in os.environ:
                    found.append(os.environ[env])
        return [s for s in found if s]


# --- error rendering -------------------------------------------------------------------------

_EXPECT = {
    "missing": "required field is missing",
    "int_parsing": "expected a whole number",
    "int_type": "expected a whole number",
    "int_from_float": "expected a whole number",
    "float_parsing": "expected a number",
    "float_type": "expected a number",
    "bool_parsing": "expected true or false",
    "string_type": "expected text",
    "list_type": "expected a list",
    "dict_type": "expected a mapping (key: value lines)",
    "model_type": "expected a mapping (key: value lines)",
    "model_attributes_type": "expected a mapping (key: value lines)",
    "ip_v4_address": "expected an IPv4 address such as 198.51.100.10",
    "ip_v4_network": "expected an IPv4 network such as 192.168.254.0/24 (host bits zero)",
    "string_too_short": "expected a non-empty value",
    "too_short": "expected a non-empty value",
}


def _describe(err: dict[str, Any], known_fields: list[str]) -> str:
    kind = err["type"]
    ctx = err.get("ctx") or {}
    loc = err["loc"]
    if kind == "extra_forbidden":
        guess = difflib.get_close_matches(str(loc[-1]), known_fields, n=1)
        return "unknown field" + (f" (did you mean '{guess[0]}'?)" if guess else "")
    if kind == "literal_error":
        return f"expected one of {ctx.get('expected', '')}"
    if kind in ("greater_than_equal", "greater_than", "less_than_equal", "less_than"):
        sign = {"greater_than_equal": "≥", "greater_than": ">", "less_than_equal": "≤",
                "less_than": "<"}[kind]
        bound = next(iter(ctx.values()), "")
        return f"expected a number {sign} {bound}"
    if kind == "string_pattern_mismatch":
        field = str(loc[-1]) if loc else ""
        if field.endswith("_env"):
            return "expected an environment variable name (letters, digits, _)"
        if field == "domain":
            return "expected a DNS domain name such as sip.operator.example"
        return f"expected text matching {ctx.get('pattern', '')}"
    if kind == "value_error":
        return str(err["msg"]).removeprefix("Value error, ")
    if kind == "assertion_error":
        return str(err["msg"]).removeprefix("Assertion failed, ")
    return _EXPECT.get(kind, str(err["msg"]).rstrip(".").lower())


def _shown_input(err: dict[str, Any]) -> str:
    """``, got X`` for short scalar inputs of non-secret fields; nothing otherwise."""
    if err["type"] in ("missing", "extra_forbidden", "value_error"):
        return ""
    # A *_env field may hold the password itself when someone misread the profile docs.
    if any(str(p) in SECRET_FIELDS or str(p).endswith("_env") for p in err["loc"]):
        return ""
    value = err.get("input")
    if isinstance(value, (dict, list)) or value is None:
        return ""
    text = str(value)
    return f", got {text!r}" if len(text) <= 40 else f", got {text[:37]!r}..."


def _fields_at(loc: tuple[str | int, ...]) -> list[str]:
    """Field names valid beside ``loc``'s last element, for 'did you mean' hints."""
    model: Any = Profile
    for part in loc[:-1]:
        if isinstance(part, int):
            continue
        fld = getattr(model, "model_fields", {}).get(part)
        if fld is None:
            return []
        ann = fld.annotation
        for cand in (ann, *getattr(ann, "__args__", ())):
            for inner in (cand, *getattr(cand, "__args__", ())):
                if isinstance(inner, type) and issubclass(inner, BaseModel):
                    model = inner
                    break
    return list(getattr(model, "model_fields", {}))


def format_errors(name: str, exc: ValidationError, smap: yamlsrc.SourceMap) -> list[str]:
    """One ``file:line: path: expectation`` line per pydantic error, secrets never echoed."""
    lines = []
    for detail in exc.errors(include_url=False):
        err: dict[str, Any] = dict(detail)
        loc: yamlsrc.Loc = tuple(detail["loc"])
        line = smap.line_of(loc)
        where = f"{name}:{line}" if line else name
        text = _describe(err, _fields_at(loc)) + _shown_input(err)
        lines.append(f"{where}: {yamlsrc.dotted(loc)}: {text}")
    return lines


def load_profile(path: str | Path, *, require_env: bool = False) -> Profile:
    """Load and validate a profile; ``require_env`` (a run, or `profile check
    --require-env`) also demands every ``*_env`` be set and every file it names be usable."""
    path = Path(path)
    data, smap = yamlsrc.load(path)
    try:
        profile = Profile.model_validate(
            data, context={"base": path.parent, "files": require_env})
    except ValidationError as exc:
        raise ProfileError(format_errors(str(path), exc, smap)) from None
    if require_env:
        missing = profile.missing_env()
        if missing:
            raise ProfileError(
                [
                    f"{path}:{smap.line_of(loc)}: {yamlsrc.dotted(loc)}: "
                    f"environment variable {var} is not set"
                    for loc, var in missing
                ]
            )
    return profile
