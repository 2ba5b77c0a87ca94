"""The lab IPBX's web administration: a login page with the product in its title.

Scanners look for the administration pages of IPBXs on 80/8080 and then try default
passwords; what betrays a box is a page that answers from the internet with a PBX's name. The
lab's page is only that (a login form that accepts nothing), served by Python's
:mod:`http.server` on each given port, run in the lab's ``lan`` namespace by
:mod:`harness.lab.ipbx` as ``python -m harness.lab.pbxweb IP PORT... --title TITLE``.
"""

from __future__ import annotations

import argparse
import html
import socketserver
import threading
from collections.abc import Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

LOGIN_PATHS = ("/", "/admin/", "/admin/config.php", "/index.php")


def page(title: str) -> bytes:
    """The login page (the same on every port)."""
    t = html.escape(title)
    return (
        "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\">"
        f"<title>{t}</title></head>\n<body><h1>{t}</h1>\n"
        "<form method=\"post\" action=\"/admin/config.php\">\n"
        "<label>Username <input name=\"username\"></label>\n"
        "<label>Password <input name=\"password\" type=\"password\"></label>\n"
        "<button type=\"submit\">Login</button>\n</form></body></html>\n"
    ).encode()


def handler(title: str, server: str) -> type[BaseHTTPRequestHandler]:
    body = page(title)

    class Handler(BaseHTTPRequestHandler):
        def version_string(self) -> str:
            return server

        def _send(self, code: int, content: bytes) -> None:
            self.send_response(code)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(content)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(content)

        def do_GET(self) -> None:
            path = self.path.split("?", 1)[0]
            if path in LOGIN_PATHS:
                self._send(200, body)
            else:
                self._send(404, b"<html><body>Not Found</body></html>\n")

        do_HEAD = do_GET

        def do_POST(self) -> None:
            text = self.headers.get("Content-Length") or "0"
            length = min(int(text), 4096) if text.isdigit() else 0
            self.rfile.read(length)  # the attempt is read and refused: no password works
            self._send(401, body)

        def log_message(self, format: str, *args: object) -> None:
            pass  # a scan is thousands of lines; the lab keeps none of them

    return Handler


class Server(ThreadingHTTPServer):
    """http.server's, without the reverse DNS lookup of its own address at bind (no resolver
    answers in a lab namespace: it cost five seconds)."""

    def server_bind(self) -> None:
        socketserver.TCPServer.server_bind(self)
        host, port = self.server_address[:2]
        self.server_name, self.server_port = str(host), int(port)


def serve(ip: str, ports: Sequence[int], title: str, server: str) -> None:
    """Serve the page on ``ip`` at every port until killed."""
    servers = [Server((ip, port), handler(title, server)) for port in ports]
    for srv in servers[1:]:
        threading.Thread(target=srv.serve_forever, daemon=True).start()
    servers[0].serve_forever()


def main(argv: Sequence[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="python -m harness.lab.pbxweb")
    p.add_argument("ip")
    p.add_argument("ports", nargs="+", type=int)
    p.add_argument("--title", required=True)
    p.add_argument("--server", default="Apache")
    args = p.parse_args(argv)
    serve(args.ip, args.ports, args.title, args.server)


if __name__ == "__main__":
    main()
