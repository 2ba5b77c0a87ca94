"""The support desk's five-timestamp rows for failed calls (operator handbook §V).

Each failed call becomes ``Date ; hh:mm:ss ; calling number ; called number ; symptom``, the
format the operator asks for in a ticket; the run writes them to ``incidents.csv``. The
symptom is a message code, written in the run's language.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from harness.messages import Msg
from harness.results import IncidentRow


@dataclass(frozen=True)
class Incident:
    at: float
    calling: str
    called: str
    symptom: Msg

    def model(self) -> IncidentRow:
        t = dt.datetime.fromtimestamp(self.at)
        return IncidentRow(date=f"{t:%d/%m/%Y}", time=f"{t:%H:%M:%S}", calling=self.calling,
                           called=self.called, symptom=self.symptom)


def row(incident: IncidentRow, lang: str) -> str:
    """One ticket row; the symptom on one line and free of the separator."""
    symptom = " ".join(incident.symptom.render(lang).replace(";", ",").split())
    return (f"{incident.date} ; {incident.time} ; {incident.calling} ; {incident.called} ; "
            f"{symptom}")


HEADER = {"fr": "Date ; Heure ; Numéro appelant ; Numéro appelé ; Symptôme",
          "en": "Date ; Time ; Calling number ; Called number ; Symptom"}


def csv_text(incidents: list[Incident], lang: str = "fr") -> str:
    """The rows a technician pastes into a support ticket (header first)."""
    return "\n".join([HEADER[lang], *(row(i.model(), lang) for i in incidents)]) + "\n"
