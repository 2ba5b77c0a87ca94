"""What the console takes from an uploaded output folder, read and checked before anything
is stored (:func:`read`).

An upload comes from a laptop on a customer's site, with the token of an integrator: it is
input from outside, and what it names is shown to the technical service (the sites page, a
site's history). So every part is bounded before it is parsed, parsed by readers that cannot
be made to expand it (JSON without NaN, YAML without anchors or aliases: 415 bytes of aliases
once named a customer with 25 MB), and every text kept is short and printable. A part that
fails is refused with one line naming the part and the field, and nothing of the upload is
stored. The site's key is computed as :func:`harness.gate.record.site_key` computes it, with
the same SIRET normalisation (:func:`harness.profile.normalise_siret`), so the agent's gate
record and the console name one site identically.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from typing import IO, Any

import yaml
from pydantic import ValidationError

from harness.console import numbers
from harness.console.labels import label
from harness.errors import RecetteError
from harness.messages import Msg
from harness.profile import normalise_siret, siret_is_valid

# Files a run folder may hold that the console keeps (the masked profile never leaves the
# laptop: the site's key and trunks are read from it at upload and only those are kept).
RUN_FILES = ("results.json", "sheet.html", "sheet.pdf", "report.html", "incidents.csv",
             "capture.pcapng", "capture-operator.pcapng", "junit.xml")
PROFILE = "profile.yaml"
MiB = 1024 * 1024
# A long capture: the app's MAX_UPLOAD, the whole request's bound (Flask answers 413 above
# it; a test keeps the two equal, and app.py, which imports Flask, stays out of the client).
MAX_UPLOAD = 512 * MiB
# Each part's bound, shared by the client (it refuses before sending) and the console.
LIMITS: dict[str, int] = {
    "results.json": 64 * MiB, "sheet.html": 64 * MiB, "sheet.pdf": 64 * MiB,
    "report.html": 128 * MiB, "incidents.csv": 16 * MiB, "junit.xml": 64 * MiB,
    "capture.pcapng": MAX_UPLOAD, "capture-operator.pcapng": MAX_UPLOAD,
    PROFILE: 256 * 1024}
MAX_DEPTH = 64        # nesting of results.json and profile.yaml (a real results.json: 8)
MAX_TEXT = 200        # characters of a kept name or title (the columns are String(200))
MAX_TRUNKS = 64
MAX_CENTREX = 1000    # Centrex accounts of one site
MAX_NUMBERS = 10_000  # DIDs of one site, all trunks and accounts (the search index's rows)
MAX_NUMBER_TEXT = 40  # characters of one number as written (``+33 (0)1 23 45 67 89``)
MAX_CHECKS = 1000
MAX_INCIDENTS = 10_000
MAX_MSG = 4096        # characters of a kept message (an incident's symptom) as JSON
FUTURE = dt.timedelta(minutes=5)  # clock skew allowed between a laptop and the console
STATUSES = ("pass", "fail", "error", "skip")
SCHEMA_VERSION = 2


class UploadRefused(RecetteError):
    """An upload the console cannot take; its text is one line naming the part and field.

    The line is English (the API's answer, which ``recette upload`` prints and scripts may
    read); the refusal also keeps its ``code`` and ``params`` so the browser's form and the
    audit page say it in their reader's language (:mod:`harness.console.refusals`). The
    English is made from the same table as the French (``refusal_<code>`` in
    :mod:`harness.console.labels`): one sentence per code, never two that drift apart."""

    def __init__(self, part: str, where: str, code: str, **params: str | int) -> None:
        self.part, self.where, self.code, self.params = part, where, code, params
        why = label(f"refusal_{code}", "en").format_map(params)
        super().__init__(": ".join(p for p in (part, where, why) if p))

    def why(self) -> dict[str, Any]:
        """What an audit line keeps beside the English (JSON: texts and numbers only)."""
        return {"part": self.part, "where": self.where, "code": self.code,
                "params": dict(self.params)}


class UploadForbidden(UploadRefused):
    """An integrator's upload for a site that exists (runs, or the gate's own row) and is
    not its own: taking it would grant the uploader another integrator's site."""


@dataclass(frozen=True)
class Intake:
    """An upload's parts, checked: what :meth:`ConsoleStore.add_run` stores."""

    results: dict[str, Any]
    raw: bytes                 # results.json as sent (its SHA-256 is the run's id)
    site: str                  # the site's key, ``SIRET or customer/site name``
    site_name: str
    customer: str
    integrator: str | None
    trunks: list[str]
    generated: dt.datetime     # the run's own time, aware
    # the files kept (RUN_FILES only; never the profile): bytes, or a seekable binary file
    # (a capture streamed from the request, never read whole)
    files: dict[str, bytes | IO[bytes]]
    siret: str | None = None   # normalised, checked
    # (E.164 digits, trunk or account name): every number the profile gives the site
    numbers: tuple[tuple[str, str], ...] = ()

    @property
    def run_id(self) -> str:
        return hashlib.sha256(self.raw).hexdigest()

    @property
    def generated_text(self) -> str:
        """``generated`` in UTC, ISO 8601: stored as text, it sorts as time does (a run
        written at +02:00 is ordered with one written at +00:00)."""
        return self.generated.astimezone(dt.UTC).isoformat()


def _show(value: Any) -> str:
    """A value in a refusal: its repr (control characters escaped), cut short."""
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _refuse(part: str, where: str, code: str, **params: str | int) -> UploadRefused:
    return UploadRefused(part, where, code, **params)


def text(value: Any, part: str, where: str, *, limit: int = MAX_TEXT,
         required: bool = True) -> str:
    """A kept text: a string (a YAML number, such as an unquoted SIRET, as its digits),
    stripped, at most ``limit`` characters, no control characters (no line breaks in a name
    shown in a table)."""
    if value is None or value == "":
        if required:
            raise _refuse(part, where, "missing")
        return ""
    if isinstance(value, int | float) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str):
        raise _refuse(part, where, "not_text", kind=type(value).__name__)
    out = value.strip()
    if len(out) > limit:
        raise _refuse(part, where, "too_long", n=len(out), limit=limit)
    if any(unicodedata.category(c) in ("Cc", "Zl", "Zp") for c in out):
        raise _refuse(part, where, "control", value=_show(out))
    if required and not out:
        raise _refuse(part, where, "missing")
    return out


def _depth_ok(doc: Any, limit: int) -> bool:
    """Whether ``doc`` nests at most ``limit`` containers deep (iterative: a deep document
    must not exhaust the stack of the code that checks it)."""
    stack: list[tuple[Any, int]] = [(doc, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict | list):
            if depth > limit:
                return False
            values = node.values() if isinstance(node, dict) else node
            stack.extend((v, depth + 1) for v in values if isinstance(v, dict | list))
    return True


class _Constant(ValueError):
    """NaN or Infinity in results.json (JSON has no such numbers)."""

    def __init__(self, name: str) -> None:
        self.name = name
        super().__init__(f"{name} is not a number")


def _no_constant(name: str) -> Any:
    raise _Constant(name)


def _results(raw: bytes) -> dict[str, Any]:
    part = "results.json"
    try:
        doc = json.loads(raw.decode("utf-8"), parse_constant=_no_constant)
    except UnicodeDecodeError:
        raise _refuse(part, "", "not_utf8") from None
    except RecursionError:
        raise _refuse(part, "", "too_deep", limit=MAX_DEPTH) from None
    except _Constant as exc:
        raise _refuse(part, "", "json_constant", name=exc.name) from None
    except json.JSONDecodeError as exc:
        raise _refuse(part, "", "not_json", detail=str(exc).splitlines()[0],
                      line=exc.lineno, col=exc.colno) from None
    if not _depth_ok(doc, MAX_DEPTH):
        raise _refuse(part, "", "too_deep", limit=MAX_DEPTH)
    if not isinstance(doc, dict):
        raise _refuse(part, "", "not_results")
    if doc.get("schema_version") != SCHEMA_VERSION:
        raise _refuse(part, "schema_version", "schema", expected=SCHEMA_VERSION,
                      value=_show(doc.get("schema_version")))
    counts = doc.get("counts")
    if not isinstance(counts, dict):
        raise _refuse(part, "counts", "not_counts")
    for key, n in counts.items():
        if key not in STATUSES:
            raise _refuse(part, "counts", "not_one_of", value=_show(key),
                              allowed=", ".join(STATUSES))
        if isinstance(n, bool) or not isinstance(n, int) or n < 0:
            raise _refuse(part, f"counts.{key}", "not_count", value=_show(n))
    checks = doc.get("checks")
    if not isinstance(checks, list):
        raise _refuse(part, "checks", "not_list")
    if len(checks) > MAX_CHECKS:
        raise _refuse(part, "checks", "too_many_checks", n=len(checks), limit=MAX_CHECKS)
    for i, c in enumerate(checks):
        _check(c, f"checks[{i}]")
    incidents = doc.get("incidents", [])
    if not isinstance(incidents, list):
        raise _refuse(part, "incidents", "not_list")
    if len(incidents) > MAX_INCIDENTS:
        raise _refuse(part, "incidents", "too_many_rows", n=len(incidents),
                      limit=MAX_INCIDENTS)
    for i, row in enumerate(incidents):
        where = f"incidents[{i}]"
        if not isinstance(row, dict):
            raise _refuse(part, where, "not_object")
        for key in ("date", "time", "calling", "called"):
            text(row.get(key), part, f"{where}.{key}", limit=64, required=False)
        message(row.get("symptom"), part, f"{where}.symptom", kept=True)
    return doc


def _check(c: Any, where: str) -> None:
    """One check's fields that the console reads or keeps: id, titles, status, messages and
    the quality rows whose worst MOS and loss the chart draws."""
    part = "results.json"
    if not isinstance(c, dict):
        raise _refuse(part, where, "not_object")
    text(c.get("id"), part, f"{where}.id")
    for lang in ("fr", "en"):
        text(c.get(lang), part, f"{where}.{lang}", required=False)
    if c.get("status") not in STATUSES:
        raise _refuse(part, f"{where}.status", "not_one_of", value=_show(c.get("status")),
                      allowed=", ".join(STATUSES))
    for key in ("reasons", "reserves"):
        items = c.get(key, [])
        if not isinstance(items, list):
            raise _refuse(part, f"{where}.{key}", "not_list")
        for j, m in enumerate(items):
            message(m, part, f"{where}.{key}[{j}]")
    figures = c.get("figures", {})
    if not isinstance(figures, dict):
        raise _refuse(part, f"{where}.figures", "not_object")
    rows = figures.get("quality", [])
    if not isinstance(rows, list):
        raise _refuse(part, f"{where}.figures.quality", "not_list")
    for j, q in enumerate(rows):
        if not isinstance(q, dict):
            raise _refuse(part, f"{where}.figures.quality[{j}]", "not_object")
        for key in ("mos", "loss_pct"):
            v = q.get(key)
            if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v):
                raise _refuse(part, f"{where}.figures.quality[{j}].{key}", "not_number",
                              value=_show(v))


def message(value: Any, part: str, where: str, *, kept: bool = False) -> Msg:
    """A message as :class:`harness.messages.Msg` reads it. A known code whose parameters
    are missing is taken: a results.json of another version of recette may say a sentence
    with other parameters, and the renderer then shows its stored English text. A kept one
    (an incident's symptom, stored in the digest) is bounded."""
    try:
        m = Msg.model_validate(value)
    except (ValidationError, RecursionError):
        raise _refuse(part, where, "not_message") from None
    text(m.code, part, f"{where}.code", limit=100)
    if kept and len(json.dumps(value, ensure_ascii=False)) > MAX_MSG:
        raise _refuse(part, where, "msg_too_long", limit=MAX_MSG)
    return m


class _Refused(yaml.YAMLError):
    """A profile.yaml construct this reader does not take: a refusal's code and params."""

    def __init__(self, code: str, **params: str | int) -> None:
        self.code, self.params = code, params
        super().__init__(code)


class _PlainLoader(yaml.SafeLoader):
    """YAML without anchors and aliases, and nested at most :data:`MAX_DEPTH` deep. A
    masked profile written by ``recette run`` never uses them; taking them would let a few
    hundred bytes expand into gigabytes (billion laughs)."""

    _depth = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        event = self.peek_event()  # type: ignore[no-untyped-call]
        if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None):
            raise _Refused("yaml_aliases")
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                raise _Refused("too_deep", limit=MAX_DEPTH)
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


def _profile(raw: bytes) -> dict[str, Any]:
    part = PROFILE
    try:
        source = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise _refuse(part, "", "not_utf8") from None
    try:
        doc = yaml.load(source, Loader=_PlainLoader)  # a SafeLoader
    except _Refused as exc:
        raise _refuse(part, "", exc.code, **exc.params) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = str(getattr(exc, "problem", None) or "unreadable")
        if mark is not None:
            raise _refuse(part, "", "not_yaml_at", line=mark.line + 1,
                          problem=problem) from None
        raise _refuse(part, "", "not_yaml", problem=problem) from None
    if not isinstance(doc, dict):
        raise _refuse(part, "", "not_profile")
    return doc


def _mapping(doc: dict[str, Any], key: str) -> dict[str, Any]:
    value = doc.get(key, {})
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise _refuse(PROFILE, key, "not_mapping")
    return value


def siret(value: Any) -> str:
    """The profile's SIRET normalised (spaces, dots, dashes removed) and checked."""
    raw = text(value, PROFILE, "customer.siret", limit=40)
    digits = normalise_siret(raw)
    if len(digits) != 14 or not digits.isdigit():
        raise _refuse(PROFILE, "customer.siret", "siret_digits", value=_show(raw))
    if not siret_is_valid(digits):
        rule = "siret_la_poste" if digits.startswith("356000000") else "siret_luhn"
        raise _refuse(PROFILE, "customer.siret", rule, digits=digits)
    return digits


def _generated(results: dict[str, Any], now: dt.datetime) -> dt.datetime:
    value = results.get("generated")
    if not isinstance(value, str) or len(value) > 40:
        raise _refuse("results.json", "generated", "not_date", value=_show(value))
    try:
        when = dt.datetime.fromisoformat(value)
    except ValueError:
        raise _refuse("results.json", "generated", "not_iso",
                      value=_show(value)) from None
    if when.tzinfo is None or when.utcoffset() is None:
        raise _refuse("results.json", "generated", "no_zone", value=_show(value))
    if when > now + FUTURE:
        raise _refuse("results.json", "generated", "future", value=value,
                      now=f"{now.astimezone(dt.UTC):%Y-%m-%dT%H:%M:%SZ}")
    return when


def size_of(part: bytes | IO[bytes]) -> int:
    """A part's length: bytes, or a seekable file measured by seeking (not read)."""
    if isinstance(part, bytes):
        return len(part)
    here = part.tell()
    try:
        return part.seek(0, 2)
    finally:
        part.seek(here)


def _small(part: bytes | IO[bytes]) -> bytes:
    """A part parsed here (results.json, profile.yaml; bounded above) as bytes."""
    if isinstance(part, bytes):
        return part
    part.seek(0)
    return part.read()


def read(files: Mapping[str, bytes | IO[bytes]], *, now: dt.datetime) -> Intake:
    """The upload's parts checked, or :class:`UploadRefused` with one line; ``now`` is the
    console's clock (a run dated more than :data:`FUTURE` after it is refused, since the
    site's latest run is chosen by its own time). Old runs are taken: a laptop may stay
    offline for weeks, and an old run never becomes the latest ahead of a newer one.
    A part is bytes or a seekable binary file: only results.json and profile.yaml are read
    here (after their size is checked); the others are only measured."""
    for name, data in files.items():
        if name not in LIMITS:
            raise UploadRefused(_show(name), "", "not_taken",
                                names=", ".join((*RUN_FILES, PROFILE)))
        size = size_of(data)
        if size > LIMITS[name]:
            raise _refuse(name, "", "too_big", size=size, limit=LIMITS[name])
    part = files.get("results.json")
    if part is None:
        raise UploadRefused("results.json", "", "absent")
    raw = _small(part)
    results = _results(raw)
    generated = _generated(results, now)
    prof = _profile(_small(files[PROFILE])) if PROFILE in files else {}
    customer_part = _mapping(prof, "customer")
    site_part = _mapping(prof, "site")
    if prof:
        customer = text(customer_part.get("name"), PROFILE, "customer.name")
        site_name = text(site_part.get("name"), PROFILE, "site.name")
    else:  # no profile: results.json names the site, without a SIRET (as the gate does)
        customer = text(results.get("customer"), "results.json", "customer")
        site_name = text(results.get("site"), "results.json", "site")
    number = customer_part.get("siret")
    key = f"{siret(number) if number not in (None, '') else customer}/{site_name}"
    integrator = text(customer_part.get("integrator"), PROFILE, "customer.integrator",
                      required=False) or None
    listed = prof.get("trunks") or []
    if not isinstance(listed, list):
        raise _refuse(PROFILE, "trunks", "not_list")
    if len(listed) > MAX_TRUNKS:
        raise _refuse(PROFILE, "trunks", "too_many_trunks", n=len(listed), limit=MAX_TRUNKS)
    trunks = []
    for i, t in enumerate(listed):
        if not isinstance(t, dict):
            raise _refuse(PROFILE, f"trunks[{i}]", "not_trunk")
        trunks.append(text(t.get("name"), PROFILE, f"trunks[{i}].name"))
    if len(key) > MAX_TEXT:
        raise _refuse(PROFILE, "site.name", "key_too_long", limit=MAX_TEXT)
    return Intake(results, raw, key, site_name, customer, integrator, trunks, generated,
                  {n: d for n, d in files.items() if n in RUN_FILES},
                  siret(number) if number not in (None, "") else None,
                  tuple(_numbers(prof, trunks)))


def _numbers(prof: dict[str, Any], trunks: list[str]) -> list[tuple[str, str]]:
    """Every DID of the profile's trunks (``trunks[].dids``) and Centrex accounts
    (``centrex[].did``) as (E.164 digits, trunk or account name), for the sites page's
    search; a number that is not one (the agent's profile checks them: an edited upload) is
    refused, at most :data:`MAX_NUMBERS` are taken."""
    out: list[tuple[str, str]] = []

    def add(value: Any, owner: str, where: str) -> None:
        if len(out) >= MAX_NUMBERS:
            raise _refuse(PROFILE, where, "too_many_numbers", limit=MAX_NUMBERS)
        written = text(value, PROFILE, where, limit=MAX_NUMBER_TEXT)
        digits = numbers.canonical(written)
        if digits is None:
            raise _refuse(PROFILE, where, "not_phone", value=_show(written))
        out.append((digits, owner))

    for i, t in enumerate(prof.get("trunks") or []):
        dids = t.get("dids") or []
        if not isinstance(dids, list):
            raise _refuse(PROFILE, f"trunks[{i}].dids", "not_list")
        for j, d in enumerate(dids):
            add(d, trunks[i], f"trunks[{i}].dids[{j}]")
    accounts = prof.get("centrex") or []
    if not isinstance(accounts, list):
        raise _refuse(PROFILE, "centrex", "not_list")
    if len(accounts) > MAX_CENTREX:
        raise _refuse(PROFILE, "centrex", "too_many_accounts", n=len(accounts),
                      limit=MAX_CENTREX)
    for i, a in enumerate(accounts):
        if not isinstance(a, dict):
            raise _refuse(PROFILE, f"centrex[{i}]", "not_trunk")
        name = text(a.get("name"), PROFILE, f"centrex[{i}].name")
        if a.get("did") not in (None, ""):
            add(a.get("did"), name, f"centrex[{i}].did")
    return out
