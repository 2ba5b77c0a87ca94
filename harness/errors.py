"""Exceptions that carry a message meant for the integrator, not a traceback.

Everything the CLI catches and prints as one line derives from :class:`RecetteError`.
A check ends in one of three ways besides passing, each an exception carrying
:class:`~harness.messages.Msg` codes so the sheet can say it in the customer's language:
:func:`fail` (the service does not conform), :class:`CheckError` (the check could not run:
``error``, never ``pass``) and :func:`not_applicable` (``skip``).
"""

from __future__ import annotations

import re
from typing import NoReturn

# pytest's skip outcome from its own module: `import pytest` costs 0.2 s of CPU, which every
# command and tool that imports the SIP toolkit (analyse, lab, probe, console, the benches)
# paid for one base class.
from _pytest.outcomes import Skipped

from harness.messages import Msg


def ssl_reason(exc: BaseException) -> str:
    """What an OS or OpenSSL error says, without OpenSSL's source line ("... (_ssl.c:1006)"),
    which tells an integrator nothing."""
    text = getattr(exc, "strerror", None) or str(exc)
    return re.sub(r" \(_ssl\.c:\d+\)$", "", str(text))


class RecetteError(Exception):
    """A failure whose message is complete and safe to print as-is (no secrets)."""


class PreflightError(RecetteError):
    """The machine cannot run this command (not root, a system package missing)."""


class LabError(RecetteError):
    """The reference lab could not be built, queried or torn down."""


class CheckError(RecetteError):
    """A check could not run (no answer, hostile reply): reported as ``error``, never ``pass``.

    ``str()`` is the English text, for logs and the CLI; ``message`` keeps the code.
    """

    def __init__(self, message: Msg) -> None:
        super().__init__(str(message))
        self.message = message


class CheckFailed(AssertionError):
    """The service does not conform: each reason is one sentence of the sheet's reserve."""

    def __init__(self, reasons: list[Msg]) -> None:
        super().__init__(" | ".join(str(r) for r in reasons))
        self.reasons = reasons


def fail(*reasons: Msg) -> NoReturn:
    """End the check with ``fail`` and these reasons (hidden from pytest's traceback)."""
    __tracebackhide__ = True
    raise CheckFailed(list(reasons))


class NotApplicable(Skipped):
    """``skip``: the check does not apply to this site (no router, no test number)."""

    def __init__(self, message: Msg) -> None:
        super().__init__(str(message), allow_module_level=False)
        self.message = message


def not_applicable(message: Msg) -> NoReturn:
    __tracebackhide__ = True
    raise NotApplicable(message)
