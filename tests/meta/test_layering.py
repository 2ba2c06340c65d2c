"""Convention checks: the analytics core stays pure, and domains import one way."""

from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).parents[2] / "src" / "stcoord"
FORBIDDEN_IN_ANALYTICS = (
    "sqlalchemy",
    "fastapi",
    "starlette",
    "stcoord.db",
    "stcoord.web",
    "stcoord.cli",
    "stcoord.auth",
    "stcoord.audit",
)
# Lower layers must not import higher ones (DESIGN.md rule 8).
LAYERS = [
    "analytics",
    "institutions",
    "plans",
    "budget",
    "portfolio",
    "consultation",
    "advisory",
    "reports",
    "web",
    "cli",
]


def imports_of(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_analytics_imports_no_storage_or_web() -> None:
    offenders = [
        f"{path.relative_to(SRC)} imports {name}"
        for path in (SRC / "analytics").rglob("*.py")
        for name in imports_of(path)
        if name.startswith(FORBIDDEN_IN_ANALYTICS)
    ]
    assert not offenders, offenders


def test_domains_do_not_import_higher_layers() -> None:
    offenders = []
    for low, layer in enumerate(LAYERS):
        for path in (SRC / layer).rglob("*.py") if (SRC / layer).exists() else []:
            if path.name in ("cli.py", "pages.py", "api.py"):
                continue  # interface modules sit on top of everything by design
            for name in imports_of(path):
                for high in LAYERS[low + 1 :]:
                    if name.startswith(f"stcoord.{high}"):
                        offenders.append(f"{path.relative_to(SRC)} imports {name}")
    assert not offenders, offenders


def test_services_never_commit() -> None:
    offenders = [
        str(path.relative_to(SRC))
        for path in SRC.rglob("service.py")
        if ".commit(" in path.read_text(encoding="utf-8")
    ]
    assert not offenders, f"services must leave committing to the caller's scope: {offenders}"
