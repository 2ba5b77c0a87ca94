"""Render the lab's Kamailio configuration from a site profile's accounts.

Kamailio plays the operator's registrar and proxy: digest auth per auth user, the AOR each
auth user may register, and DIDs routed to the trunk that owns them (for inbound calls).
One template serves both operators: ``field=True`` defines ``FIELD`` in it, which turns the
proxy into the field lab's carrier SBC (every call challenged, DIDs reached by hairpin, media
anchored on rtpengine, the announcement test number). The operator's shape
(:mod:`harness.lab.shapes`) gives the listen sockets and the one every request to the site
leaves from (``force_send_socket``): a socket of the registrar's own, another port, or an edge
proxy's address. In-dialog requests follow the Record-Route Kamailio writes for each socket
a call crosses (two when it leaves by another socket than it came in on), so ACK, BYE and
re-INVITE towards the site leave from the same socket as the INVITE did.
"""

from __future__ import annotations

import glob
from importlib import resources

from harness.lab import announcement, relay, testline
from harness.lab.shapes import DEFAULT, Shape
from harness.lab.topology import ECHO_NUMBER
from harness.profile import Profile


def modules_dir() -> str:
    """Kamailio's module folder for this architecture (Debian puts it under the multiarch dir)."""
    found = sorted(glob.glob("/usr/lib/*/kamailio/modules")) or sorted(
        glob.glob("/usr/lib/kamailio/modules")
    )
    return found[0] if found else "/usr/lib/x86_64-linux-gnu/kamailio/modules"


def _quote(value: str) -> str:
    if any(c in value for c in '"\\\n\r'):
        raise ValueError("account values may not contain quotes, backslashes or newlines")
    return f'"{value}"'


FAR_END_PORT = 5080


def render(profile: Profile, *, max_expires: int = 3600, algorithm: str = "MD5",
           field: bool = False, shape: Shape = DEFAULT) -> str:
    """Kamailio config text serving every trunk and Centrex account of ``profile`` (as the
    field lab's SBC when ``field``), its sockets those of ``shape``."""
    srv = profile.operator.sip_server
    lines = []
    for acc in profile.accounts():
        auth = _quote(acc.auth_username)[1:-1]
        lines.append(f"  $sht(users=>{auth}) = {_quote(acc.secret())};")
        lines.append(f"  $sht(aors=>{auth}) = {_quote(acc.user)};")
        lines.append(f"  $sht(locals=>{_quote(acc.user)[1:-1]}) = 1;")
    for trunk in profile.trunks:
        lines.append(f"  $sht(channels=>{_quote(trunk.user)[1:-1]}) = {trunk.channels};")
        for did in trunk.dids:
            lines.append(f"  $sht(dids=>{did}) = {_quote(trunk.user)};")
    for cx in profile.centrex:
        if cx.did:
            lines.append(f"  $sht(dids=>{cx.did}) = {_quote(cx.user)};")
    listen = "\n".join(f"listen={sock}" for sock in shape.listen())
    out_ip, out_port = shape.invite_from
    text = resources.files("harness.lab").joinpath("templates/kamailio.cfg").read_text()
    return (
        text.replace("@@LISTEN@@", listen)
        .replace("@@MODULES@@", modules_dir())
        .replace("@@MAX_EXPIRES@@", str(max_expires))
        .replace("@@ACCOUNTS@@", "\n".join(lines))
        .replace("@@FAR_END@@", f"{srv.ip}:{FAR_END_PORT}")
        .replace("@@OUT_SOCKET@@", f"{out_ip}:{out_port}")
        .replace("@@DIGEST@@", algorithm)
        .replace("@@DEFINES@@", "#!define FIELD" if field else "")
        .replace("@@RTPENGINE@@", f"udp:{relay.NG_ADDR[0]}:{relay.NG_ADDR[1]}")
        .replace("@@RTP_FLAGS@@", relay.FLAGS)
        .replace("@@ANNOUNCEMENT@@", f"{srv.ip}:{announcement.PORT}")
        .replace("@@ECHO_NUMBER@@", ECHO_NUMBER)
        .replace("@@TEST_LINE_NUMBER@@", testline.NUMBER)
        .replace("@@TEST_LINE@@", f"{srv.ip}:{testline.PORT}")
    )
