"""User-facing messages as codes with parameters, rendered in the reader's language.

Why codes: the acceptance sheet is signed by a French customer, the expert annex may be read
by an English-speaking engineer, and ``results.json`` is read by programs (the console, a
later re-render). A check therefore never writes a sentence; it names what happened
(``msg("ALG_REWRITES", elements="Via, Contact")``) and each room's catalog (its ``texts.py``)
says it in every language. ``results.json`` keeps the code, the parameters and the English
text; the sheet renders the code again in its own language.

A catalog is ``{code: {"en": template, "fr": template}}`` with ``str.format`` fields. A
parameter may itself be a :class:`Msg` or a list of them (rendered in the same language,
a list joined with "; "), so a sentence can carry localised parts such as a call direction.
The catalogs are found through the runner's table of rooms (:mod:`harness.rooms`), so the
core names no check package.
"""

from __future__ import annotations

import importlib
import string
from functools import cache
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

LANGS = ("fr", "en")

Catalog = dict[str, dict[str, str]]
Param = str | int | float | None


class Msg(BaseModel):
    """One user-facing sentence: its code, its parameters, and its English text."""

    model_config = ConfigDict(frozen=True)

    code: str
    params: dict[str, Param | Msg | list[Msg]] = Field(default_factory=dict)
    text: str = ""

    def __str__(self) -> str:
        return self.text or render(self, "en")

    def render(self, lang: str) -> str:
        return render(self, lang)


@cache
def catalog() -> Catalog:
    """Every room's texts merged; a code defined twice is a programming error."""
    from harness.rooms import TEXT_MODULES

    merged: Catalog = {}
    for name in TEXT_MODULES:
        texts: Catalog = importlib.import_module(name).TEXTS
        twice = set(texts) & set(merged)
        if twice:
            raise RuntimeError(f"{name}: message codes defined twice: {sorted(twice)}")
        merged.update(texts)
    return merged


def _value(value: Any, lang: str) -> str:
    if isinstance(value, Msg):
        return render(value, lang)
    if isinstance(value, list):
        return "; ".join(_value(v, lang) for v in value)
    if isinstance(value, float):
        return f"{value:g}"
    return "" if value is None else str(value)


def _raw(m: Msg) -> str:
    return f"[{m.code}] " + ", ".join(f"{k}={_value(v, 'en')}" for k, v in m.params.items())


def render(m: Msg, lang: str) -> str:
    """``m`` in ``lang`` (French or English); an unknown code says so rather than vanish. A
    message read from an older ``results.json`` whose sentence has since gained a parameter
    is shown as it was written (its English text), never an error: a stored run must
    always render."""
    entry = catalog().get(m.code)
    if entry is None:
        return _raw(m)
    template = entry.get(lang) or entry["en"]
    if fields(template) - set(m.params):
        return m.text or _raw(m)
    try:
        return template.format_map({k: _value(v, lang) for k, v in m.params.items()})
    except (KeyError, IndexError, ValueError, AttributeError, TypeError, RecursionError):
        return m.text or _raw(m)  # a field the stored parameters cannot fill, as above


def msg(code: str, **params: Param | Msg | list[Msg]) -> Msg:
    """A message with its English text filled in (what ``results.json`` and logs show); a
    parameter its sentences use and the caller did not give is a programming error."""
    if code not in catalog():
        raise KeyError(f"unknown message code {code!r}: add it to a room's texts.py")
    missing = set().union(*(fields(t) for t in catalog()[code].values())) - set(params)
    if missing:
        raise KeyError(f"message {code}: parameter(s) {', '.join(sorted(missing))} not given")
    m = Msg(code=code, params=params)
    return m.model_copy(update={"text": render(m, "en")})


def fields(template: str) -> set[str]:
    """The parameter names a template uses (the catalog test compares languages with it)."""
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}
