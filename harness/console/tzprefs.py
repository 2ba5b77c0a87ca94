"""The time-zone part of the user's preferences page (``/preferences``, whose form it
shares with the notifications, :mod:`harness.console.prefs`): the zone every time of the
console is shown in. A zone is checked against the zone database (:func:`localtime.zone`)
before it is stored; a refused one changes nothing and says so. Every signed-in user has
it, for their own account only."""

from __future__ import annotations

from typing import Any
from zoneinfo import available_timezones

from flask import flash, g, redirect, url_for

from harness.console import localtime
from harness.console.app import now, store_of
from harness.console.auth import client_ip, current_user
from harness.console.labels import label

# The zones a French operator's users are likeliest to want, first in the list.
COMMON = ("Europe/Paris", "America/Montreal", "America/Guadeloupe", "America/Martinique",
          "America/Cayenne", "Indian/Reunion", "Pacific/Noumea", "Pacific/Tahiti",
          "Europe/Brussels", "Europe/Zurich", "Europe/London", "UTC")


def context() -> dict[str, Any]:
    """What the page's time-zone form shows: the user's zone and the zones to choose."""
    rest = sorted(z for z in available_timezones()
                  if z not in COMMON and "/" in z and not z.startswith(("Etc/", "SystemV/")))
    return {"current": current_user().tz or localtime.DEFAULT_TZ, "zones": [*COMMON, *rest],
            "now_shown": now()}


def save(wanted: str) -> Any:
    """Store the user's zone (the default as none), audited; a zone the database does not
    know is refused with one line."""
    user = current_user()
    try:
        chosen = localtime.zone(wanted).key
    except localtime.ZoneError:
        flash(label("tz_unknown", g.lang), "error")
        return redirect(url_for("prefs.index"))
    store_of().set_tz(user.id, None if chosen == localtime.DEFAULT_TZ else chosen)
    store_of().audit(user.username, "tz_set", ip=client_ip(), at=now(), detail={"tz": chosen})
    flash(label("tz_saved", g.lang), "ok")
    return redirect(url_for("prefs.index"))
