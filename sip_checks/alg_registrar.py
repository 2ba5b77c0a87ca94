"""The operator's registrar as a SIP ALG witness: what its 200 OK says it received.

Why: no operator runs our probe beside its server, but every registrar already reports back
part of what reached it. Its 200 OK to a REGISTER echoes our top Via, with ``received`` and
``rport`` added for the source it saw (RFC 3261 §18.2.1, RFC 3581), and lists the Contacts
it stored (§10.3 step 8). A rewrite of the REGISTER on its way out that nothing undoes on the
way back shows there as a changed sent-by or stored Contact.

The Linux ALG (``nf_nat_sip``) does undo it: in the reply it maps the public address back to
the private one in the top Via, its ``received=`` and the Contact, so sent-by and Contact look
untouched. What gives it away is ``received=``: Kamailio adds it (our REGISTER asks for
``rport``), the ALG maps it back, and the registrar then claims to have received our REGISTER
from our own LAN address, which no packet from the internet can have. Measured on the field
lab (Kamailio 5.6): ALG off, ``received=192.0.2.2;rport=5060`` and the Contact as sent; ALG
on, ``received=192.168.254.10`` (our LAN address) and the Contact as sent, while Kamailio's
own ``received="sip:192.0.2.2:5060"`` parameter on the Contact, which the ALG does not parse,
still names the public address. So this witness sees the Linux ALG through ``received=``
only, and cannot see an INVITE or SDP at all: the outsider probe's reflector is the first
witness, this one the second.

Our binding is told apart from others of the same account (a stale one, another device) by a
random URI parameter in our Contact, which ALGs leave alone (they rewrite host and port).
"""

from __future__ import annotations

import contextlib
import ipaddress
import re
import secrets
from dataclasses import dataclass, field

from harness.errors import CheckError
from harness.messages import Msg, msg
from harness.profile import Profile
from sip_checks.probes.alg import Change, Probe, via_parts
from sip_checks.session import Site, identity
from sip_checks.toolkit.endpoint import SipEndpoint, WireRecord
from sip_checks.toolkit.message import SipParseError, parse
from sip_checks.toolkit.ua import UserAgent

TOKEN_PARAM = "x-recette"
# Addresses that never cross the internet: a registrar out there cannot have seen them as a
# source (RFC 1918, shared address space RFC 6598, link-local).
_LAN_NETS = tuple(ipaddress.ip_network(n) for n in
                  ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10",
                   "169.254.0.0/16"))
_SECRET_HEADERS = ("authorization", "proxy-authorization")


@dataclass
class RegistrarView:
    """What we sent in the REGISTER and what the registrar's 200 OK reports about it."""

    via_sent: str
    via_reported: str
    received: str | None
    rport: str | None
    contact_sent: str  # the URI we registered
    contact_stored: str | None  # our binding's URI in the 200 OK; None: not listed
    contact_params: dict[str, str]  # what the registrar added to it (expires, received…)
    public: str | None  # our public address as known to compare received= with
    public_from: str  # where that address comes from
    changes: list[Change] = field(default_factory=list)  # rewrites
    nat_only: list[Change] = field(default_factory=list)  # what any NAT-aware registrar adds


class _TaggedUA(UserAgent):
    """A user agent whose Contact carries a random URI parameter, to find our own binding
    among the account's others in the registrar's list."""

    def __init__(self, endpoint: SipEndpoint, profile: Profile, user: str) -> None:
        super().__init__(endpoint, identity(profile, user))
        self.token = secrets.token_hex(6)

    @property
    def contact(self) -> str:
        host, port = self.contact_addr
        return f"<sip:{self.id.user}@{host}:{port};{TOKEN_PARAM}={self.token}>"


def is_lan(addr: str) -> bool:
    """An address that stays behind a router (private, shared or link-local)."""
    try:
        ip = ipaddress.ip_address(addr)
    except ValueError:
        return False
    return any(ip in net for net in _LAN_NETS)


def split_contacts(values: list[str]) -> list[str]:
    """Each Contact of the header values, split on commas outside ``<>`` and quotes."""
    out: list[str] = []
    for value in values:
        depth, quoted, start = 0, False, 0
        for i, ch in enumerate(value):
            if ch == '"':
                quoted = not quoted
            elif not quoted and ch == "<":
                depth += 1
            elif not quoted and ch == ">":
                depth = max(0, depth - 1)
            elif not quoted and depth == 0 and ch == ",":
                out.append(value[start:i].strip())
                start = i + 1
        out.append(value[start:].strip())
    return [c for c in out if c]


def contact_parts(value: str) -> tuple[str, dict[str, str]]:
    """(URI, header parameters) of one Contact: ``<sip:a@h:p;uri-param>;expires=60`` gives
    ``("sip:a@h:p;uri-param", {"expires": "60"})``; quotes around values are removed."""
    m = re.match(r'\s*(?:"[^"]*"\s*|[^<"]*)?<([^>]*)>(.*)$', value)
    uri, rest = (m.group(1), m.group(2)) if m else (value.split(";")[0].strip(),
                                                   value[len(value.split(";")[0]):])
    params: dict[str, str] = {}
    for p in re.findall(r';\s*([^;=\s]+)(?:\s*=\s*("[^"]*"|[^;]*))?', rest):
        params[p[0].lower()] = p[1].strip().strip('"')
    return uri.strip(), params


def _host(uri_or_addr: str) -> str:
    m = re.match(r"(?:sips?:)?(?:[^@]*@)?([^:;>]+)", uri_or_addr.strip())
    return m.group(1) if m else uri_or_addr


def _received_change(received: str | None, *, sent_host: str, local_ip: str,
                     server_ip: str, public: str | None) -> tuple[Change | None, bool]:
    """The ``Via received`` row and whether it is a rewrite: our LAN address reported back
    (the Linux ALG mapping the registrar's received= back), or no received= at all although
    the registrar saw another source than our sent-by (it saw our sent-by rewritten)."""
    element = "Via[0] received"
    if received is None:
        if public and public != local_ip and sent_host == local_ip:
            return Change(element, f"(absent; the registrar saw us from {public})",
                          "(absent): it saw a sent-by equal to our public address"), True
        return None, False
    if received == local_ip and local_ip != public and (
            public is not None or (is_lan(local_ip) and not is_lan(server_ip))):
        seen = f"(absent; the registrar saw us from {public})" if public else \
            "(absent; a LAN address cannot reach the registrar)"
        return Change(element, seen, received), True
    return Change(element, "(absent)", received), False


def compare(sent: bytes, reply: bytes, *, local_ip: str, server_ip: str,
            public: str | None = None, token: str | None = None) -> RegistrarView:
    """Compare our REGISTER with the registrar's 200 OK to it.

    ``public`` is our public address as another witness saw it (the outsider probe), used when
    the registrar does not say it itself (Kamailio's ``received=`` Contact parameter does).
    ``token`` finds our binding among the Contacts; without it, the URI we sent.
    """
    req, ok = parse(sent), parse(reply)
    head_sent, params_sent = via_parts(req.get("Via") or "")
    head_got, params_got = via_parts(ok.get("Via") or "")
    contact_sent, _ = contact_parts(req.get("Contact") or "")
    stored: str | None = None
    added: dict[str, str] = {}
    for value in split_contacts(ok.get_all("Contact")):
        uri, params = contact_parts(value)
        if (token and f";{TOKEN_PARAM}={token}" in uri) or (not token and uri == contact_sent):
            stored, added = uri, params
            break
    public_from = ""
    if "received" in added:
        public, public_from = _host(added["received"]), "the registrar's received= on our Contact"
    elif public:
        public_from = "the outsider probe"
    view = RegistrarView(head_sent, head_got, params_got.get("received"),
                         params_got.get("rport"), contact_sent, stored, added, public,
                         public_from)
    if head_sent != head_got:
        view.changes.append(Change("Via[0] sent-by", head_sent, head_got))
    for k in sorted((set(params_sent) | set(params_got)) - {"received", "rport"}):
        if params_sent.get(k) != params_got.get(k):
            view.changes.append(Change(f"Via[0] {k}", params_sent.get(k, "(absent)"),
                                       params_got.get(k, "(absent)")))
    row, rewritten = _received_change(view.received, sent_host=head_sent.split()[-1]
                                      .rsplit(":", 1)[0], local_ip=local_ip,
                                      server_ip=server_ip, public=public)
    if row is not None:
        (view.changes if rewritten else view.nat_only).append(row)
    if view.rport:
        view.nat_only.append(Change("Via[0] rport", params_sent.get("rport") or "(flag)",
                                    view.rport))
    if stored is not None and stored != contact_sent:
        view.changes.append(Change("Contact", contact_sent, stored))
    if "received" in added:
        view.nat_only.append(Change("Contact received", "(absent)", added["received"]))
    return view


def exchange(wire: list[WireRecord]) -> tuple[bytes, bytes] | None:
    """Our last REGISTER and the final response to it, from an endpoint's wire log."""
    for i in range(len(wire) - 1, -1, -1):
        rec = wire[i]
        if rec.outgoing and rec.data.startswith(b"REGISTER "):
            try:
                branch = parse(rec.data).via_branch()
            except SipParseError:
                return None
            for later in wire[i + 1:]:
                if later.outgoing:
                    continue
                try:
                    got = parse(later.data)
                except SipParseError:
                    continue
                if got.is_response and (got.status or 0) >= 200 and got.via_branch() == branch:
                    return rec.data, later.data
            return None
    return None


def redacted(raw: bytes) -> str:
    """A message as text with its digest answer masked (it is evidence, not a credential)."""
    lines = raw.decode("utf-8", "replace").split("\r\n")
    return "\r\n".join(f"{ln.split(':', 1)[0]}: (redacted)"
                       if ln.split(":", 1)[0].strip().lower() in _SECRET_HEADERS else ln
                       for ln in lines).rstrip("\r\n")


@dataclass
class Witness:
    """The registrar's testimony: its view (None when it gave none), the ALG probe row, and
    the exchange as text for the evidence."""

    probe: Probe
    view: RegistrarView | None = None
    transcript: str = ""
    account: str = ""


def as_probe(view: RegistrarView | None, port: int, note: Msg | None = None) -> Probe:
    """The registrar's view as one row of the ALG diff (REGISTER site→registrar)."""
    p = Probe("site→registrar", "REGISTER", "udp", port, vantage="registrar")
    if view is None:
        p.note = note
        return p
    p.delivered, p.changes, p.nat_only = True, list(view.changes), list(view.nat_only)
    return p


async def observe(profile: Profile, site: Site, *, public: str | None) -> Witness:
    """Register the profile's first account from the site's SIP port (any free port if it is
    taken), compare with the registrar's 200 OK, and remove the binding again."""
    srv = profile.operator.sip_server
    accounts = profile.accounts()
    if not accounts:
        return Witness(as_probe(None, srv.port, msg("ALG_REGISTRAR_NO_ACCOUNT")))
    user = accounts[0].user
    try:
        ep = await SipEndpoint.open(site.ip, site.sip_port)
    except CheckError:
        ep = await SipEndpoint.open(site.ip, 0)
    ua = _TaggedUA(ep, profile, user)
    try:
        try:
            reg = await ua.register()
        except CheckError as exc:
            return Witness(as_probe(None, srv.port, exc.message), account=user)
        pair = exchange(ua.ep.wire)
        text = "\n\n".join(redacted(m) for m in pair) if pair else ""
        if reg.status != 200 or pair is None:
            note = msg("ALG_REGISTRAR_REFUSED", account=user, status=reg.status,
                       reason=reg.reason)
            return Witness(as_probe(None, srv.port, note), transcript=text, account=user)
        view = compare(pair[0], pair[1], local_ip=ep.local[0], server_ip=str(srv.ip),
                       public=public, token=ua.token)
        with contextlib.suppress(CheckError):
            await ua.unregister()
        return Witness(as_probe(view, srv.port), view, text, user)
    finally:
        ep.close()
