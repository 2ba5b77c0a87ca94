"""The site page's quality chart (harness/console/history.py chart): runs placed by their
date on a date axis, a few ticks that cannot crowd, title, legend and text alternative in
the page's language."""

from __future__ import annotations

import datetime as dt
import itertools
import re
import xml.etree.ElementTree as ET
from zoneinfo import ZoneInfo

from harness.console.history import Point, chart, ticks

NS = {"s": "http://www.w3.org/2000/svg"}


def _svg(markup: str) -> ET.Element:
    return ET.fromstring(markup[:markup.index("</svg>") + 6])


def test_runs_are_placed_by_time_not_by_rank() -> None:
    pts = [Point("2026-11-01T09:00:00+00:00", 4.2, 0.0),
           Point("2026-11-02T09:00:00+00:00", 3.6, 2.0),
           Point("2026-11-11T09:00:00+00:00", 4.0, 1.0)]  # nine days after the second
    svg = _svg(chart(pts, "fr"))
    xs = [float(c.get("cx", "")) for c in svg.iterfind("s:circle[@class='run']", NS)]
    assert len(xs) == 3 and xs[0] < xs[1] < xs[2]
    assert abs((xs[2] - xs[1]) / (xs[1] - xs[0]) - 9.0) < 0.01  # by rank it would be 1
    whens = [c.get("data-when") for c in svg.iterfind("s:circle[@class='run']", NS)]
    assert whens[2] == "2026-11-11T09:00:00+00:00"


def test_date_ticks_on_the_axis_few_and_apart() -> None:
    pts = [Point("2026-11-01T09:00:00+00:00", 4.2, 0.0),
           Point("2026-12-01T09:00:00+02:00", 3.6, 2.0)]  # another zone: read as UTC
    svg = _svg(chart(pts, "fr"))
    labels = [(float(t.get("x", "")), t.text) for t in svg.iterfind("s:text[@class='tick']", NS)]
    assert [text for _, text in labels] == ["01/11/2026", "11/11/2026", "21/11/2026",
                                            "01/12/2026"]
    xs = [x for x, _ in labels]
    # 13-unit glyphs, 10 characters: at most ~80 units wide, centred; 4 ticks on 480 units
    assert min(b - a for a, b in itertools.pairwise(xs)) > 140
    same_day = ticks(dt.datetime(2026, 11, 2, 9, tzinfo=dt.UTC),
                     dt.datetime(2026, 11, 2, 15, tzinfo=dt.UTC))
    assert [text for _, text in same_day] == ["11-02 09:00", "11-02 11:00", "11-02 13:00",
                                              "11-02 15:00"]
    one = ticks(dt.datetime(2026, 11, 2, 9, tzinfo=dt.UTC),
                dt.datetime(2026, 11, 2, 9, tzinfo=dt.UTC))
    assert [text for _, text in one] == ["11-02 09:00"]


def test_title_legend_and_text_alternative_in_the_page_language() -> None:
    pts = [Point("2026-11-01T09:00:00+00:00", 4.2, 0.5),
           Point("2026-11-02T09:00:00+00:00", 3.6, 2.0)]
    fr, en = str(chart(pts, "fr")), str(chart(pts, "en"))
    svg = _svg(fr)
    assert svg.find("s:title", NS) is not None
    assert svg.findtext("s:title", namespaces=NS) == "Qualité des appels dans le temps"
    assert (svg.findtext("s:desc", namespaces=NS) ==
            "2 recettes du 01/11/2026 09:00 (UTC) au 02/11/2026 09:00 (UTC) ; MOS le plus "
            "bas de 3,60 à 4,20, perte la plus haute de 0,50 à 2,00 %.")
    assert "MOS le plus bas (1 à 5)" in fr and "Valeurs du graphique" in fr
    assert len(re.findall(r"<tr><td>0\d/11/2026 09:00 \(UTC\)</td>", fr)) == 2
    paris = str(chart(pts, "fr", ZoneInfo("Europe/Paris")))  # the user's zone, labelled
    assert len(re.findall(r"<tr><td>0\d/11/2026 10:00 \(heure de Paris\)</td>", paris)) == 2
    assert "Call quality over time" in en and "Lowest MOS (1 to 5)" in en
    assert "Qualité" not in en and "recettes" not in en
    assert chart([], "fr") == "" and chart([Point("not a date", 4.0, 0.0)], "fr") == ""
