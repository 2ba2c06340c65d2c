"""Read YAML while remembering the line of every key, so errors can point into the file."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml

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


def load_located(text: str) -> LocatedDocument:
    """Parse one YAML document, keeping line numbers; raise :class:`YamlSyntaxError` if invalid."""
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        raise YamlSyntaxError(line, f"YAML syntax error: {exc.problem or exc}") from None
    doc = LocatedDocument(data=None)
    if node is None:
        return doc
    doc.data = _construct(node, (), doc)
    return doc


def _construct(node: yaml.Node, path: Path, doc: LocatedDocument) -> Any:
    doc.lines.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        result: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            # Keys are names in our formats: take the text as written, so YAML 1.1 does not
            # turn a key such as `on` or `no` into a boolean.
            if isinstance(key_node, yaml.ScalarNode):
                key = str(key_node.value)
            else:
                key = str(yaml.SafeLoader(" ").construct_object(key_node))
            child = (*path, key)
            if key in result:
                doc.duplicate_keys.append((child, key_node.start_mark.line + 1))
                continue
            doc.lines[child] = key_node.start_mark.line + 1
            result[key] = _construct(value_node, child, doc)
        return result
    if isinstance(node, yaml.SequenceNode):
        return [_construct(item, (*path, i), doc) for i, item in enumerate(node.value)]
    loader = yaml.SafeLoader("")
    return loader.construct_object(node, deep=True)
