"""What every part of the sheet is rendered from: the run, the profile and the language.

The front page and each annex section are functions of one :class:`Page`, so a new section
needs no new parameter threaded through the others, and the language's tables are looked up
in one place (``page.t``, ``page.word``) rather than passed around as loose dictionaries.
"""

from __future__ import annotations

from dataclasses import dataclass

from harness.messages import Msg
from harness.profile import Profile
from harness.results import RunResults
from reports.sheet import text
from reports.sheet.blocks import e


@dataclass(frozen=True)
class Page:
    """One rendering of the sheet: the (redacted) run, what was sold, and the language."""

    results: RunResults
    profile: Profile
    lang: str

    @property
    def t(self) -> text.Texts:
        """The sheet's labels in this page's language."""
        return text.TEXT[self.lang]

    def label(self, key: str) -> str:
        """A label of :data:`~reports.sheet.text.TEXT`, escaped."""
        return e(self.t[key])

    def word(self, table: dict[str, text.Texts], key: str) -> str:
        """A value's word (verdict, grade, severity, vantage…) in this language, escaped."""
        return e(text.word(table, self.lang, key))

    def say(self, message: Msg) -> str:
        """A check's sentence (reason, reserve, finding, symptom) in this language, escaped."""
        return e(message.render(self.lang))
