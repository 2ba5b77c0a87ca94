"""Message catalogs: every code said in French and English, with the same parameters, and
every code the code base uses exists (a sheet never shows an untranslated reason)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from harness import rooms
from harness.messages import LANGS, Msg, catalog, fields, msg, render

REPO = Path(__file__).resolve().parents[2]
SOURCES = [p for pkg in ("harness", "sip_checks", "router_checks", "reports")
           for p in sorted((REPO / pkg).rglob("*.py"))]


def _codes_used() -> tuple[set[str], set[str]]:
    """(literal codes, f-string prefixes) passed to ``msg(...)`` anywhere in the sources."""
    literal: set[str] = set()
    prefixes: set[str] = set()
    for path in SOURCES:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
                    and node.func.id == "msg" and node.args):
                continue
            first = node.args[0]
            if isinstance(first, ast.Constant) and isinstance(first.value, str):
                literal.add(first.value)
            elif isinstance(first, ast.JoinedStr) and isinstance(first.values[0], ast.Constant):
                prefixes.add(str(first.values[0].value))
            else:
                literal.add(f"<dynamic code at {path.name}:{node.lineno}>")
    return literal, prefixes


@pytest.mark.parametrize("code", sorted(catalog()))
def test_every_code_is_said_in_every_language_from_the_same_parameters(code: str) -> None:
    """The English text (results.json, logs) carries every parameter; the French sentence
    the customer signs may leave technical detail to the annex, but never use a parameter
    the English one lacks (callers pass what English needs)."""
    entry = catalog()[code]
    assert set(entry) == set(LANGS), f"{code}: languages {sorted(entry)}"
    assert all(entry[lang].strip() for lang in LANGS), f"{code}: empty text"
    assert fields(entry["fr"]) <= fields(entry["en"]), f"{code}: French uses other parameters"


def test_sentences_are_translated_not_copied() -> None:
    """A French text identical to the English one is an untranslated code (short labels such
    as "MOS" or "R {value} < {limit}" may be the same)."""
    same = [c for c, e in catalog().items() if e["fr"] == e["en"] and len(e["en"]) > 24]
    assert not same, f"untranslated: {same}"


def test_every_code_used_exists_and_every_code_is_used() -> None:
    literal, prefixes = _codes_used()
    known = set(catalog())
    assert literal - known == set(), "codes used but not in any catalog"
    for prefix in prefixes:
        assert any(c.startswith(prefix) for c in known), f"no code starts with {prefix}"
    unused = {c for c in known - literal if not any(c.startswith(p) for p in prefixes)}
    assert unused == set(), "codes no source uses (dead texts)"


def test_catalogs_come_from_the_rooms_table() -> None:
    assert rooms.TEXT_MODULES[0] == "harness.texts"
    for name in rooms.TEXT_MODULES:
        assert isinstance(rooms.load(name).TEXTS, dict)


def test_a_message_keeps_code_params_and_english_text_and_renders_nested_parts() -> None:
    m = msg("QUALITY_RESERVE", direction=msg("DIR_FAR_TO_SITE"),
            problems=[msg("Q_LOSS", value="2.10", limit=1.0)])
    assert m.text == "far end→site: loss 2.10 % ≥ 1 %"
    assert render(m, "fr") == "opérateur→site : perte 2.10 % ≥ 1 %"
    again = Msg.model_validate_json(m.model_dump_json())
    assert again == m and again.render("fr") == render(m, "fr")


def test_an_unknown_code_is_refused_when_made_and_visible_when_read() -> None:
    with pytest.raises(KeyError, match="NO_SUCH_CODE"):
        msg("NO_SUCH_CODE")
    foreign = Msg(code="FROM_A_NEWER_VERSION", params={"x": 1}, text="something")
    assert render(foreign, "fr") == "[FROM_A_NEWER_VERSION] x=1"


def test_a_parameter_missing_is_refused_when_made_and_read_as_written() -> None:
    """A sentence that gained a parameter still renders the message an older results.json
    holds (its English text, else its code and parameters), and a caller that forgets one
    is told at once."""
    with pytest.raises(KeyError, match=r"FW_CLOSED_TO_SERVER: parameter\(s\) .*server"):
        msg("FW_CLOSED_TO_SERVER", ports="5060")
    old = Msg(code="FW_CLOSED_TO_SERVER", params={"ports": "5060"},
              text="UDP 5060 not open to the operator server")
    assert render(old, "fr") == "UDP 5060 not open to the operator server"
    assert render(old.model_copy(update={"text": ""}), "fr") == (
        "[FW_CLOSED_TO_SERVER] ports=5060")
