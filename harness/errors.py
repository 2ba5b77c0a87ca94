"""Exceptions that carry a message meant for the integrator, not a traceback.

Everything the CLI catches and prints as one line derives from :class:`RecetteError`.
"""


class RecetteError(Exception):
    """A failure whose message is complete and safe to print as-is (no secrets)."""


class PreflightError(RecetteError):
    """The machine cannot run this command (not root, a system package missing)."""


class LabError(RecetteError):
    """The reference lab could not be built, queried or torn down."""


class CheckError(RecetteError):
    """A check could not run (no answer, hostile reply): reported as ``error``, never ``pass``."""
