"""The typed result of a check run: what ``results.json`` holds and every report reads.

Why a schema: the sheet, the pytest-html report, the gate and (later) the console all read
the same results. Found by string keys (``data["alg"]``, titles ending in ": ladder") they
drifted apart and lost data (a second reserve overwrote the first). Here each payload a
report renders has a model, reserves are a list, and ``results.json`` is
``RunResults.model_dump_json()`` with a schema version, so a reader can refuse a document it
does not understand instead of misreading it.

Adding a payload for a new annex section: a model here, a field on :class:`Figures`, and the
section module that renders it (see ARCHITECTURE.md).
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from harness.errors import RecetteError
from harness.messages import Msg

SCHEMA_VERSION = 2

Status = Literal["pass", "fail", "error", "skip"]
STATUSES: tuple[Status, ...] = ("pass", "fail", "error", "skip")


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Item(_Model):
    """One titled block of evidence, shown preformatted.

    ``kind`` says what the block is, so a report can pick the blocks it wants (the sheet's
    annex shows ``ladder`` blocks; ``config`` blocks are cited by router findings through
    ``ref``) without matching titles.
    """

    title: str
    text: str
    kind: Literal["text", "ladder", "messages", "config", "collected"] = "text"
    ref: str = ""


class QualityRow(_Model):
    """The measured quality of one received RTP direction of one call."""

    direction: Msg
    sent: int | None
    received: int
    expected: int
    loss_pct: float
    jitter_ms: float
    jitter_max_ms: float
    rtt_ms: float | None
    one_way_ms: float | None
    r: float
    mos: float
    grade: Literal["good", "warn", "bad"]
    problems: list[Msg] = Field(default_factory=list)


class AlgChange(_Model):
    element: str
    before: str
    after: str


class AlgProbe(_Model):
    """One SIP message sent across the router and what arrived (the ALG diff).

    ``vantage`` is the witness that saw it: a probe beside the operator's server, the outsider
    probe's reflector, or the operator's registrar (what its 200 OK to our REGISTER reports).
    Results written before there was more than one witness have none: the server probe.
    """

    direction: str
    method: str
    proto: str
    port: int
    delivered: bool
    changes: list[AlgChange] = Field(default_factory=list)
    nat_only: list[AlgChange] = Field(default_factory=list)
    note: Msg | None = None
    vantage: Literal["server", "outsider", "registrar"] = "server"


class Attestation(_Model):
    """A probe's signed word on what it did (:mod:`harness.attest`), carried verbatim: the
    console checks ``sig`` over ``doc`` with the registered key ``key`` names."""

    doc: str
    sig: str
    key: str


class Sweep(_Model):
    """The UDP ports one vantage point reached in one phase of the firewall check, and the
    probe's attestation of what it sent (None: a probe without a signing key, or an older
    results.json)."""

    vantage: Literal["server", "outsider"]
    phase: Literal["cold", "warm"]
    source: str
    open: list[int]
    sent: int
    seconds: float
    attestation: Attestation | None = None


class PublicAddress(_Model):
    """The site's public address as the run saw it: what the registrar saw at registration,
    else where the outsider probe sent its sweep (the console matches attestations to it)."""

    address: str
    seen_by: Literal["registrar", "probe"]


class PortSets(_Model):
    """UDP ports open to the operator server and to everyone else. ``tested`` lists the
    ports the server side was tried on when that was a sample (the operator's own traffic),
    not a sweep of every port (None)."""

    server: list[int] = Field(default_factory=list)
    others: list[int] = Field(default_factory=list)
    tested: list[int] | None = None
    # Per operator address (the profile's registrar, signalling and media addresses): the
    # ports open to it (configuration: predicted; traffic: proven) and, for traffic, the
    # ports it was tried on (an address proven with no ports tried was swept: all of them).
    # ``server`` stays the registrar's, for older readers.
    by_source: dict[str, list[int]] = Field(default_factory=dict)
    tested_by_source: dict[str, list[int]] = Field(default_factory=dict)
    # Configuration only: the ports open to any address at all (an outsider anywhere must
    # find them open; ``others`` also holds ports open only to networks a rule names), and
    # whether a SIP ALG or SIP-aware inspection opens pinholes beside the rules. None: not
    # said (a measurement, or a prediction written before these fields).
    any_source: list[int] | None = None
    sip_alg: bool | None = None


class CrossCheck(_Model):
    config: PortSets
    measured: PortSets


class SampleRow(_Model):
    """One SDP port offered in a call through the operator, and what the operator's media
    did there: ``open`` (arrived before the site sent), ``closed`` (only after), ``silent``
    (never), ``failed`` (no call)."""

    port: int
    outcome: Literal["open", "closed", "silent", "failed"]
    first_ms: float | None = None
    after_punch_ms: float | None = None
    sources: list[str] = Field(default_factory=list)
    sdp: str | None = None


class OperatorTraffic(_Model):
    """The firewall as the operator's own traffic showed it: the SIP request its proxy sent
    to the site's SIP port (``sip_proven``: on a new flow; False: on one the site opened;
    None: none came) and the sampled RTP ports."""

    route: str
    seconds: float
    sip: str
    sip_proven: bool | None
    sip_source: str | None = None
    samples: list[SampleRow] = Field(default_factory=list)


class NatWitness(_Model):
    """One destination of the NAT test socket and the public port it saw us from (None:
    nothing, or it did not say; ``note`` says which); ``how`` says how it told us."""

    vantage: Literal["server", "outsider", "registrar"]
    destination: str
    port: int | None
    received: str | None = None
    how: str = ""
    note: str = ""


class NatTrial(_Model):
    """One idle UDP binding trial with one probe (``alive`` None: it could not run)."""

    vantage: Literal["server", "outsider"]
    idle_s: float
    alive: bool | None
    note: str = ""


class NatFigures(_Model):
    """``seen`` lists the witnesses' ports in order (documents before the witnesses were
    kept: server:5088, server:5060, outsider:5088); the bracket comes from
    ``lifetime_from``'s trials."""

    local_port: int
    seen: list[int | None]
    mapping: str
    alive_max_s: float | None
    expired_min_s: float | None
    witnesses: list[NatWitness] = Field(default_factory=list)
    trials: list[NatTrial] = Field(default_factory=list)
    lifetime_from: Literal["server", "outsider"] | None = None


class Finding(_Model):
    """One router audit finding with the configuration lines behind it."""

    code: str
    severity: Literal["fail", "warn", "info"]
    message: Msg
    lines: list[str] = Field(default_factory=list)


class RouterConfig(_Model):
    """The router's configuration as collected (secrets masked), for ``recette audit``."""

    kind: str
    files: dict[str, str]


class SipDialog(_Model):
    """One SIP dialog or transaction a check exchanged, by Call-ID: what finds its frames in
    ``capture.pcapng`` (``sip.Call-ID == "…"``; Wireshark's VoIP Calls then finds its RTP
    from the SDP). ``method`` is its first request's (INVITE, REGISTER, OPTIONS …)."""

    call_id: str
    method: str
    title: str = ""


class CaptureFile(_Model):
    """One capture file of the run, in the output folder."""

    name: str
    side: Literal["agent", "operator"]
    where: str  # the network namespace it was taken in, or "host"
    size: int  # bytes
    packets: int | None = None
    dropped: int | None = None  # by the kernel or dumpcap: the capture misses frames


class CaptureInfo(_Model):
    """What ``recette run`` captured of its own SIP and RTP (:mod:`harness.capture`):
    ``captured`` with its files and capture filter, ``off`` (``--no-capture``), or
    ``unavailable`` (no dumpcap/tshark, or it could not start: ``detail`` says why)."""

    state: Literal["captured", "off", "unavailable"]
    files: list[CaptureFile] = Field(default_factory=list)
    filter: str = ""
    detail: str = ""


class AddressRow(_Model):
    """One operator address and what one of its roles needs open (firewall.openings): its
    status and what it rests on, as the gate's record says it."""

    address: str
    roles: list[str] = Field(default_factory=list)  # registrar/signalling/media, or "seen"
    ports: str  # "5060" or "10000-20000"
    status: Literal["proven", "closed", "unproven", "vouched"]
    basis: str | None = None  # operator traffic, server probe sweep, router configuration


class ExposurePort(_Model):
    """One port of the site as the outsider probe found it (``security.exposure``): its
    state, what answered (status line or banner, product, page title, certificate subject)
    and, for a port an attacker reaches, the risk in the reader's language."""

    port: int
    transport: Literal["udp", "tcp"]
    state: Literal["open", "closed", "filtered", "open|filtered"]
    protocol: str | None = None
    answered: str = ""
    tls_subject: str | None = None
    risk: Msg | None = None
    complete: bool = True


class ExposureScan(_Model):
    """One scan of the site's public address by the outsider probe, ``cold`` (no
    registration of the agent's open) or ``warm`` (while one is), with the probe's
    attestation of it (None: a probe without a signing key)."""

    phase: Literal["cold", "warm"]
    source: str
    to: str
    seconds: float
    ports: list[ExposurePort] = Field(default_factory=list)
    attestation: Attestation | None = None


class SipMove(_Model):
    """One move of the outsider against the site's public address
    (``security.sip_from_outside``): which, on which port, for which user, what it got (status
    lines as received, the product if named) and how the probe ended an INVITE."""

    port: int
    transport: Literal["udp", "tcp"]
    move: Literal["options", "register", "invite"]
    user: str | None = None
    made_up: bool = False
    got: str = ""
    ended: str = ""
    complete: bool = True


class SipMoves(_Model):
    """The attacker's SIP moves by the outsider probe: from where, against which address,
    the users named and made up, the international number, each move, the users found
    enumerable, and the probe's attestation (None: a probe without a signing key)."""

    source: str
    to: str
    seconds: float
    number: str
    users: list[str] = Field(default_factory=list)
    made_up: list[str] = Field(default_factory=list)
    enumerated: list[str] = Field(default_factory=list)
    findings: list[Msg] = Field(default_factory=list)
    moves: list[SipMove] = Field(default_factory=list)
    attestation: Attestation | None = None


class Figures(_Model):
    """The typed payloads a check leaves for the reports (each optional)."""

    quality: list[QualityRow] = Field(default_factory=list)
    alg: list[AlgProbe] = Field(default_factory=list)
    sweeps: list[Sweep] = Field(default_factory=list)
    media_sources: list[str] = Field(default_factory=list)
    crosscheck: CrossCheck | None = None
    operator_traffic: OperatorTraffic | None = None
    operator_addresses: list[AddressRow] = Field(default_factory=list)
    nat: NatFigures | None = None
    findings: list[Finding] | None = None
    unevaluated: list[Msg] = Field(default_factory=list)
    lan_plan: Msg | None = None  # where the LAN plan the router audit compared with came from
    router_config: RouterConfig | None = None
    extra_call_status: int | None = None
    sip_dialogs: list[SipDialog] = Field(default_factory=list)  # in capture.pcapng
    public_address: PublicAddress | None = None
    exposure: list[ExposureScan] = Field(default_factory=list)  # security.exposure's scans
    sip_moves: SipMoves | None = None  # security.sip_from_outside's moves


class CheckResult(_Model):
    """One check's verdict with everything shown under it."""

    id: str
    fr: str
    en: str
    status: Status = "pass"
    reasons: list[Msg] = Field(default_factory=list)
    reserves: list[Msg] = Field(default_factory=list)
    duration_s: float = 0.0
    started: str | None = None  # when its measurement began (UTC): checks may overlap
    evidence: list[Item] = Field(default_factory=list)
    facts: dict[str, str] = Field(default_factory=dict)
    figures: Figures = Field(default_factory=Figures)

    def title(self, lang: str) -> str:
        return self.fr if lang == "fr" else self.en

    def reason(self, lang: str = "en") -> str:
        """The reasons as one line (summaries, progress lines)."""
        return " | ".join(m.render(lang) for m in self.reasons)


class IncidentRow(_Model):
    """A failed call in the operator's ticket format (see :mod:`harness.incidents`)."""

    date: str
    time: str
    calling: str
    called: str
    symptom: Msg


class RunResults(_Model):
    """The whole run: ``results.json``."""

    schema_version: Literal[2] = 2  # SCHEMA_VERSION
    generated: str
    customer: str
    site: str
    operator_server: str
    lang: str
    counts: dict[Status, int]
    checks: list[CheckResult]
    incidents: list[IncidentRow] = Field(default_factory=list)
    capture: CaptureInfo | None = None  # set by the runner once the capture stopped

    def check(self, ident: str) -> CheckResult | None:
        return next((c for c in self.checks if c.id == ident), None)


def load_results(path: Path) -> RunResults:
    """Read a ``results.json``; a document of another schema gets a one-line error."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise RecetteError(f"{path}: cannot read: {exc.strerror}") from None
    try:
        return RunResults.model_validate_json(text)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise RecetteError(f"{path}: not a results.json of schema {SCHEMA_VERSION} "
                           f"({where}: {first['msg']})") from None
