"""The support desk's five-timestamp rows for failed calls (operator handbook §V).

Each failed call becomes ``Date ; hh:mm:ss ; calling number ; called number ; symptom``, the
format the operator asks for in a ticket; the run writes them to ``incidents.csv``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass


@dataclass(frozen=True)
class Incident:
    at: float
    calling: str
    called: str
    symptom: str

    def row(self) -> str:
        t = dt.datetime.fromtimestamp(self.at)
        symptom = " ".join(self.symptom.replace(";", ",").split())
        return (f"{t:%d/%m/%Y} ; {t:%H:%M:%S} ; {self.calling} ; {self.called} ; "
                f"{symptom}")


HEADER = "Date ; Heure ; Numéro appelant ; Numéro appelé ; Symptôme"


def csv_text(incidents: list[Incident]) -> str:
    """The rows a technician pastes into a support ticket (header first)."""
    return "\n".join([HEADER, *(i.row() for i in incidents)]) + "\n"
