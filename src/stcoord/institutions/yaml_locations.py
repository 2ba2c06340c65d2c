"""Read YAML while remembering the line of every key, so errors can point into the file."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml
import yaml_rs

Path = tuple[str | int, ...]


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an input file, with where it is."""

    file: str
    line: int | None
    path: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where}: {self.path or '<root>'}: {self.message}"

    def as_dict(self) -> dict[str, Any]:
        return {"file": self.file, "line": self.line, "path": self.path, "message": self.message}


@dataclass
class LocatedDocument:
    """A parsed YAML document and the line (1-based) where each path starts."""

    data: Any
    lines: dict[Path, int] = field(default_factory=dict)
    duplicate_keys: list[tuple[Path, int]] = field(default_factory=list)

    def line_of(self, path: Path) -> int | None:
        """The line of ``path``, or of its nearest ancestor that has one."""
        for end in range(len(path), -1, -1):
            if path[:end] in self.lines:
                return self.lines[path[:end]]
        return None


def format_path(path: Path) -> str:
    """``("bodies", 3, "seats", 0, "role")`` -> ``bodies[3].seats[0].role``."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


class YamlSyntaxError(ValueError):
    def __init__(self, line: int | None, message: str) -> None:
        super().__init__(message)
        self.line = line


class FastParseError(ValueError):
    """The fast parser could not read the text (syntax, duplicate keys, ...)."""


def load_fast(text: str) -> Any:
    """Parse YAML without line bookkeeping, for files that turn out to be clean.

    yaml-rs (Rust) reads a 5,000-body, 6.7 MB mechanism file in 0.3 s where PyYAML's libyaml
    loader takes 5 s and the line-keeping loader longer (benchmarks/bench_mechanism_load.py).
    It refuses duplicate keys and keeps keys such as ``on`` as written. Raises
    :class:`FastParseError` for anything it cannot read; the caller then reads the file with
    :func:`load_located`, which reports every problem with its line.
    """
    try:
        return yaml_rs.loads(text)
    except Exception as exc:  # the library's own error types vary by version
        raise FastParseError(str(exc)) from exc


def load_located(text: str) -> LocatedDocument:
    """Parse one YAML document, keeping line numbers; raise :class:`YamlSyntaxError` if invalid.

    The C parser (libyaml) composes the node tree; one constructor then turns scalars into
    values. Measured on a 5,000-body file: 23 s with a Python loader per scalar, a few seconds
    this way (benchmarks/bench_mechanism_load.py).
    """
    loader_class = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        node = yaml.compose(text, Loader=loader_class)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        raise YamlSyntaxError(line, f"YAML syntax error: {exc.problem or exc}") from None
    doc = LocatedDocument(data=None)
    if node is None:
        return doc
    doc.data = _Builder(doc).build(node, ())
    return doc


class _Builder:
    """Turns a composed node tree into Python values, recording the line of every path."""

    def __init__(self, doc: LocatedDocument) -> None:
        self.doc = doc
        self.scalars = yaml.SafeLoader("")  # one constructor for every scalar

    def build(self, node: yaml.Node, path: Path) -> Any:
        lines = self.doc.lines
        if path not in lines:
            lines[path] = node.start_mark.line + 1
        if isinstance(node, yaml.MappingNode):
            result: dict[Any, Any] = {}
            for key_node, value_node in node.value:
                key = self._key(key_node)
                child = (*path, key)
                if key in result:
                    self.doc.duplicate_keys.append((child, key_node.start_mark.line + 1))
                    continue
                lines[child] = key_node.start_mark.line + 1
                result[key] = self.build(value_node, child)
            return result
        if isinstance(node, yaml.SequenceNode):
            return [self.build(item, (*path, i)) for i, item in enumerate(node.value)]
        return self.scalars.construct_object(node, deep=True)

    def _key(self, node: yaml.Node) -> str:
        # Keys are names in our formats: take the text as written, so YAML 1.1 does not turn a
        # key such as `on` or `no` into a boolean.
        if isinstance(node, yaml.ScalarNode):
            return str(node.value)
        return str(self.scalars.construct_object(node, deep=True))
