"""A Cisco IOS ``show running-config`` as a tree of numbered lines.

Every IOS section reader (access lists, interfaces, NAT, DHCP, the zone-based firewall)
cites configuration lines; they share this tree, the one way to turn lines into a
:class:`Source`, and the one way to note a line they leave out (:data:`Note`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from router_checks.model import Source


@dataclass
class Node:
    """One configuration line: 1-based number, text without indentation, its block's lines."""

    num: int
    text: str
    children: list[Node] = field(default_factory=list)

    @property
    def words(self) -> list[str]:
        return self.text.split()


# Records a line a reader leaves out, and why (it becomes ``model.sources["unevaluated"]``).
Note = Callable[[Node, str], None]

BANNER = re.compile(r"^banner\s+\S+\s+(\^C|\S)")


def tree(lines: list[str], unterminated: list[Node] | None = None,
         noise: Callable[[str], bool] = lambda text: False) -> list[Node]:
    """Top-level lines with their blocks, by indentation, as IOS writes ``show running-config``.

    Lines ``noise`` rejects (a terminal's prompts, IOS's preamble) are skipped, and reading
    stops at the top-level ``end`` that closes the configuration (what follows is the
    terminal's, e.g. the next command's output).

    A ``banner`` is free text up to its delimiter (``^C`` as IOS shows it): its lines are the
    banner's children and never read as configuration, so a banner that quotes
    ``interface ...`` cannot add an interface to the audit. Blank lines carry nothing. A
    banner whose delimiter never comes is added to ``unterminated``.
    """
    roots: list[Node] = []
    stack: list[tuple[int, Node]] = []  # open blocks: (indentation, node)
    i = 0
    while i < len(lines):
        raw = lines[i].rstrip("\r\n")
        i += 1
        text = raw.strip()
        if not text or noise(text):
            continue
        indent = len(raw) - len(raw.lstrip())
        if text == "end" and indent == 0:
            roots.append(Node(i, text))
            break
        node = Node(i, text)
        banner = BANNER.match(raw)
        if banner and banner.group(1) not in raw[banner.end():]:
            closed = False
            while i < len(lines) and not closed:
                body = lines[i].rstrip("\r\n")
                i += 1
                if body.strip():
                    node.children.append(Node(i, body.strip()))
                closed = banner.group(1) in body
            if not closed and unterminated is not None:
                unterminated.append(node)
        while stack and stack[-1][0] >= indent:
            stack.pop()
        (stack[-1][1].children if stack else roots).append(node)
        stack.append((indent, node))
    return roots


def source(origin: str, nodes: Iterable[Node]) -> Source:
    picked = sorted({n.num: n for n in nodes}.values(), key=lambda n: n.num)
    return Source(origin, tuple(n.num for n in picked), tuple(n.text for n in picked))
