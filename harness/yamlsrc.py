"""Strict YAML loading that remembers where every value came from.

Profiles are hand-edited on site; an error must say ``file:line`` and a duplicated key must not
silently win (PyYAML's default), so we compose the node tree ourselves.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from harness.errors import RecetteError

Loc = tuple[str | int, ...]


class YamlSourceError(RecetteError):
    """The file could not be read or is not valid YAML; message is ``file[:line]: what``."""


@dataclass
class SourceMap:
    """Maps a value's location (a pydantic-style loc tuple) to its 1-based line number."""

    lines: dict[Loc, int] = field(default_factory=dict)

    def line_of(self, loc: Loc) -> int | None:
        """Line of the deepest known prefix of ``loc`` (missing keys point at their parent)."""
        for end in range(len(loc), -1, -1):
            if loc[:end] in self.lines:
                return self.lines[loc[:end]]
        return None


def _construct(node: yaml.Node, loc: Loc, smap: SourceMap, name: str) -> Any:
    smap.lines.setdefault(loc, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        out: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            key = _construct(key_node, (*loc, "<key>"), SourceMap(), name)
            if isinstance(key, (dict, list)):
                raise YamlSourceError(
                    f"{name}:{key_node.start_mark.line + 1}: a mapping key must be a plain value"
                )
            if key in out:
                raise YamlSourceError(
                    f"{name}:{key_node.start_mark.line + 1}: {_dotted((*loc, key))}: "
                    f"duplicate key (first given on line {smap.lines[(*loc, key)]})"
                )
            smap.lines[(*loc, key)] = key_node.start_mark.line + 1
            out[key] = _construct(value_node, (*loc, key), smap, name)
        return out
    if isinstance(node, yaml.SequenceNode):
        return [_construct(item, (*loc, i), smap, name) for i, item in enumerate(node.value)]
    if node.tag == "tag:yaml.org,2002:null":
        return None
    # Every other scalar stays text: YAML 1.1 guessing would turn the DID 0123456789 into an
    # integer without its leading zero, or "no" into False. The profile model converts types.
    return str(node.value)


def _dotted(loc: Loc) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(top level)"


def dotted(loc: Loc) -> str:
    """``("trunks", 0, "password")`` → ``trunks[0].password``."""
    return _dotted(loc)


def load(path: Path) -> tuple[Any, SourceMap]:
    """Parse ``path`` into plain Python data plus its source map; errors name file and line."""
    name = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise YamlSourceError(f"{name}: no such file") from None
    except IsADirectoryError:
        raise YamlSourceError(f"{name}: is a directory, expected a YAML file") from None
    except PermissionError:
        raise YamlSourceError(f"{name}: permission denied") from None
    except UnicodeDecodeError as exc:
        raise YamlSourceError(f"{name}: not UTF-8 text (byte {exc.start})") from None
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f":{mark.line + 1}" if mark else ""
        problem = " ".join(str(exc.problem or exc.context or "invalid YAML").split())
        problem = problem.replace("'<scalar>'", "a value").replace("'<block end>'", "the end "
                                  "of an indented block")
        if "'\\t'" in problem:
            problem += " (indent with spaces, not tabs)"
        if exc.context and exc.problem and exc.context_mark is not None:
            started = exc.context_mark.line + 1
            problem += f" ({exc.context} started on line {started})"
        raise YamlSourceError(f"{name}{where}: YAML syntax error: {problem}") from None
    except yaml.YAMLError as exc:
        raise YamlSourceError(f"{name}: YAML syntax error: {' '.join(str(exc).split())}") from None
    if node is None:
        raise YamlSourceError(f"{name}: empty file, expected a site profile (a YAML mapping)")
    smap = SourceMap()
    data = _construct(node, (), smap, name)
    if not isinstance(data, dict):
        raise YamlSourceError(
            f"{name}:1: expected a site profile (a YAML mapping), got a {type(data).__name__}"
        )
    return data, smap
