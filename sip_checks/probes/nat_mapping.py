"""The NAT mapping type (RFC 4787 §4.1) from the public ports that several destinations saw
one local socket come from.

Pure, so the classification is tested on its own: the measurement (which destinations, how
each reports the port) lives in :mod:`sip_checks.probes.nat`. A real site offers two ports of
one address (the outsider probe's 5060 and 5088) and another address (the operator's
registrar, which reports our port in its Via ``rport``); a probe at the operator adds more.
The rules only conclude what the observations prove, so a destination that saw nothing
narrows the answer instead of being guessed.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import combinations
from typing import Literal

ProbeVantage = Literal["server", "outsider"]  # a probe of ours (the server one is optional)
Vantage = Literal["server", "outsider", "registrar"]

ENDPOINT_INDEPENDENT = "endpoint-independent"
ADDRESS_DEPENDENT = "address-dependent"
ADDRESS_AND_PORT_DEPENDENT = "address-and-port-dependent (symmetric)"
DEPENDENT = "address- or port-dependent (not endpoint-independent)"


@dataclass(frozen=True)
class Witness:
    """One destination of the test socket and the public source port it saw (None: it saw
    nothing, or did not say); ``how`` says how it told us, ``note`` why it did not."""

    vantage: Vantage
    dest: tuple[str, int]
    port: int | None
    how: str = ""
    note: str = ""
    received: str | None = None  # the public address, when the witness says it (Via)

    @property
    def where(self) -> str:
        return f"{self.dest[0]}:{self.dest[1]}"


@dataclass(frozen=True)
class Mapping:
    """What the witnesses prove: ``kind`` is None when they cannot tell (fewer than two
    addresses answered and no two ports of one address differed)."""

    local_port: int
    witnesses: tuple[Witness, ...]
    kind: str | None

    @property
    def seen(self) -> list[Witness]:
        return [w for w in self.witnesses if w.port is not None]

    @property
    def silent(self) -> list[Witness]:
        return [w for w in self.witnesses if w.port is None]

    @property
    def preserved(self) -> bool | None:
        """Every destination that saw us saw our local port (None: none saw us)."""
        seen = self.seen
        return all(w.port == self.local_port for w in seen) if seen else None


def classify(local_port: int, witnesses: list[Witness]) -> Mapping:
    """RFC 4787's three behaviours, from pairs of destinations:

    - two ports of one address saw different ports: address-and-port-dependent;
    - else two addresses saw different ports: address-dependent when some address was seen
      on two ports (the same one), else only "not endpoint-independent";
    - else endpoint-independent when at least two addresses saw the same port;
    - else unknown (one address alone cannot show address dependence).
    """
    seen = [w for w in witnesses if w.port is not None]
    same_ip = [(a, b) for a, b in combinations(seen, 2)
               if a.dest[0] == b.dest[0] and a.dest[1] != b.dest[1]]
    other_ip = [(a, b) for a, b in combinations(seen, 2) if a.dest[0] != b.dest[0]]
    kind: str | None
    if any(a.port != b.port for a, b in same_ip):
        kind = ADDRESS_AND_PORT_DEPENDENT
    elif any(a.port != b.port for a, b in other_ip):
        kind = ADDRESS_DEPENDENT if same_ip else DEPENDENT
    elif other_ip:
        kind = ENDPOINT_INDEPENDENT
    else:
        kind = None
    return Mapping(local_port, tuple(witnesses), kind)
