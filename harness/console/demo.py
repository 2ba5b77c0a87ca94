"""The demo's console: the chain of trust from the lab's probe to the international option,
through the same path as a real site's run (an integrator's token, ``POST /api/runs``, the
console's verification of the probe's signatures, the gate on the server's clock)."""

from __future__ import annotations

import logging
import secrets
import threading
from pathlib import Path

from werkzeug.serving import make_server

from harness.console.app import create_app
from harness.console.store import open_console
from harness.console.upload import upload


def upload_to_demo_console(out: Path, keys: dict[str, str], trunks: list[str]) -> list[str]:
    """Register the lab probes' public keys in ``out/console.db``, serve a console on a
    loopback port, upload ``out`` with a fresh integrator token, and say per trunk where the
    option stands (and how to look at it). RecetteError on any failure, in one line."""
    url = f"sqlite:///{out.resolve() / 'console.db'}"
    store = open_console(url)
    known = {k["public_key"] for k in store.probe_keys() if k["revoked_at"] is None}
    for name, public in keys.items():
        if public not in known:
            store.add_probe_key(f"lab {name}", public, by="recette demo")
    user = store.user_by_name("demo-integrator") or store.add_user(
        "demo-integrator", secrets.token_urlsafe(24), "integrator", "recette demo")
    token = store.create_token(user.id, "recette demo", created_by="recette demo")
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # no request lines in the summary
    server = make_server("127.0.0.1", 0, create_app(store, secure_cookies=False),
                         threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        answer = upload(out, f"http://127.0.0.1:{server.server_port}", token=token)
    finally:
        server.shutdown()
        thread.join(10)
    run = store.run(int(answer["id"]))
    lines = [f"console: run {answer['id']} of {answer['site']} uploaded with an integrator's "
             f"token ({'new' if answer.get('new') else 'already there'})"]
    if run is not None and run.gate:
        lines.append(f"console: the firewall verification: {run.gate.get('note', '')}")
        lines += [f"console: not attested: {r}" for r in run.gate.get("refused", [])]
    for trunk in trunks or [None]:  # type: ignore[list-item]
        st = store.gate.status(answer["site"], trunk)
        lines.append(f"international option ({trunk}): {st.state}: {st.reason}")
    lines.append(f"to look at it: recette console user add admin --role administrator --db "
                 f"{url}, then recette console serve --insecure-cookies --db {url}")
    return lines
