"""What one kind of router provides to the audit: the base class of every entry of
:data:`router_checks.kinds.KINDS`.

Why a class per kind (netmiko's one class per device type): the online check, the offline
``recette audit`` and the runner's saved copy of the configuration all need the same four
things of a router kind (collect its configuration over SSH, parse it into the normalised
:class:`~router_checks.model.RouterModel`, save it beside the report, read that file back),
and they must ask the kind rather than test its name. A kind is a *bundle* of texts, the
outputs of the commands it collects by name, so the report, ``results.json`` and the saved
file all carry the same thing.

Two ways of saving come ready: :class:`TextKind` (the configuration is one text, as an IOS
``show running-config``) and :class:`JsonKind` (several command outputs in one JSON file).
"""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from pathlib import Path
from typing import ClassVar

from harness.errors import RecetteError
from harness.profile import Router
from router_checks.model import RouterModel

Bundle = dict[str, str]


class RouterKind(ABC):
    """One kind of router: its profile name, netmiko driver and file name beside the report."""

    name: ClassVar[str]  # profile ``router.kind`` and ``recette audit --kind``
    device_type: ClassVar[str]  # the netmiko driver its collector logs in with
    saved_name: ClassVar[str]  # the file ``recette run`` writes beside the report

    @abstractmethod
    def collect(self, router: Router, *, timeout: float = 10.0) -> Bundle:
        """Log in and bring back the texts :meth:`parse` needs (secrets already masked)."""

    @abstractmethod
    def parse(self, bundle: Bundle, origin: str | None = None) -> RouterModel:
        """The normalised model; ``origin`` names the file the bundle was read from (offline),
        so that findings cite its lines, and is None when the bundle was just collected."""

    @abstractmethod
    def dump(self, bundle: Bundle) -> str:
        """The text of :attr:`saved_name`."""

    @abstractmethod
    def load(self, text: str, path: Path) -> Bundle:
        """:meth:`dump`'s text read back; a file of another form is a one-line RecetteError."""

    def shown(self, bundle: Bundle) -> list[tuple[str, str]]:
        """The evidence blocks (title, text) the report shows of what was collected."""
        return [(f"collected: {key}", text) for key, text in bundle.items()]


class TextKind(RouterKind):
    """A kind whose configuration is one text (``bundle[text_key]``), saved as it is."""

    text_key: ClassVar[str]

    def dump(self, bundle: Bundle) -> str:
        return bundle.get(self.text_key, "")

    def load(self, text: str, path: Path) -> Bundle:
        return {self.text_key: text}

    def shown(self, bundle: Bundle) -> list[tuple[str, str]]:
        return [(f"collected: {self.text_key}", bundle.get(self.text_key, ""))]


class JsonKind(RouterKind):
    """A kind whose configuration is several command outputs, saved as one JSON object."""

    required: ClassVar[tuple[str, ...]]  # the outputs a saved file must hold

    def dump(self, bundle: Bundle) -> str:
        return json.dumps(bundle, indent=1, ensure_ascii=False) + "\n"

    def load(self, text: str, path: Path) -> Bundle:
        try:
            doc = json.loads(text)
            if not isinstance(doc, dict):
                raise ValueError("not a JSON object")
            missing = [k for k in self.required if not isinstance(doc.get(k), str)]
            if missing:
                raise ValueError(f"no text for {', '.join(missing)}")
        except ValueError as exc:
            raise RecetteError(f"{path}: not a {self.name} collector bundle (JSON with the "
                               f"collector's outputs): {exc}") from None
        return {str(k): v for k, v in doc.items() if isinstance(v, str)}
