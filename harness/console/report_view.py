"""How the console shows a run's pytest-html ``report.html`` without letting it reach the
console.

The report draws its rows with its own inline scripts (the rows are a JSON blob in the page),
so the sheets' policy (``sandbox`` without scripts, :data:`harness.console.files.SANDBOX`)
opens it blank. But the file comes from an integrator's laptop: whatever it holds must not
act as the console. So it is served with :data:`REPORT_CSP`:

- ``sandbox allow-scripts`` and no ``allow-same-origin``: the document gets an opaque
  origin. Its scripts run but are nobody: no cookie (``document.cookie`` throws), no
  same-origin request, no access to a console page framing it (``parent.document`` throws).
  No ``allow-top-navigation``, ``allow-forms``, ``allow-popups``: it cannot take the
  console's tab away, post a form or open a window.
- ``script-src 'unsafe-inline'`` only: its own inline scripts, nothing fetched from anywhere;
  ``connect-src 'none'`` and ``form-action 'none'`` close fetch/XHR/beacons and forms even if
  a sandbox flag were ever added; ``frame-ancestors 'self'``: only the console frames it.

pytest-html keeps its sort and collapse state in ``sessionStorage``, which an opaque origin
may not touch (reading it throws and the report stops before its rows). :func:`served`
therefore puts :data:`SHIM` first in the document: an in-memory ``sessionStorage`` when the
real one is refused. It gives the report nothing it did not have; the stored bytes are
unchanged (the download's digest is the upload's).

A separate origin for stored files would do the same but needs a second host name and
certificate at every operator; the opaque origin needs nothing.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

REPORT_CSP = ("sandbox allow-scripts; default-src 'none'; script-src 'unsafe-inline'; "
              "style-src 'unsafe-inline'; img-src data:; font-src data:; connect-src 'none'; "
              "form-action 'none'; frame-ancestors 'self'; base-uri 'none'")
SHIM = (b"<script>(function(){try{window.sessionStorage.length}catch(e){var m={};"
        b"Object.defineProperty(window,'sessionStorage',{configurable:true,value:{"
        b"getItem:function(k){return k in m?m[k]:null},"
        b"setItem:function(k,v){m[k]=String(v)},removeItem:function(k){delete m[k]},"
        b"clear:function(){m={}},key:function(i){return Object.keys(m)[i]||null},"
        b"get length(){return Object.keys(m).length}}})}})()</script>")
_HEAD = re.compile(rb"<head(\s[^>]*)?>", re.IGNORECASE)
_DOCTYPE = re.compile(rb"\s*<!doctype[^>]*>", re.IGNORECASE)


def served(data: bytes) -> bytes:
    """``data`` with :data:`SHIM` before any script of its own: right after ``<head>``, else
    after the doctype (a script before it would switch the page to quirks mode)."""
    for pattern in (_HEAD, _DOCTYPE):
        found = pattern.search(data, 0, 4096)
        if found:
            return data[:found.end()] + SHIM + data[found.end():]
    return SHIM + data


def served_chunks(chunks: Iterable[bytes]) -> Iterator[bytes]:
    """:func:`served` over a stream (a report read from the blob store by chunks): the first
    4 kB, where the shim's place is looked for, are gathered, the rest passes as it comes,
    so a 128 MB report is never held whole."""
    it = iter(chunks)
    head = b""
    for chunk in it:
        head += chunk
        if len(head) >= 4096:
            break
    yield served(head)
    yield from it
