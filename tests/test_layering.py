"""Imports point one way: every artforge import, at module level or inside a function, is checked.

    data -> models / losses / features -> training -> pipelines -> metrics -> studio / cli

A module may import its own package, any layer to its left, and the leaves. The leaves (io, provenance,
errors, config, runtime, ops, families (the registry, which names code by lazy strings only) and the
package root, which holds only `__version__`) import no artforge layer, only one another. models, losses
and features share a layer but do not import one another: what two of them need (tensor statistics, fused
convolutions) lives in `artforge.ops`. Exceptions are listed in ALLOWED, each with its reason.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import artforge

SRC = Path(artforge.__file__).parent

LAYERS = [("data",), ("models", "losses", "features"), ("training",), ("pipelines",), ("metrics",),
          ("studio", "cli", "__main__")]
LEAVES = {"", "io", "provenance", "errors", "config", "runtime", "ops", "families"}
SIBLINGS_APART = {"models", "losses", "features"}
RANK = {pkg: i for i, layer in enumerate(LAYERS) for pkg in layer}

# (importing module, imported module) -> why this import is allowed against the direction. None is needed
# today; an entry must say why the code cannot be arranged the other way.
ALLOWED = {
}


def module_name(path: Path) -> str:
    parts = ("artforge",) + path.relative_to(SRC).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path: Path) -> list[tuple[str, int]]:
    """Every artforge module `path` imports, anywhere in the file, with its line."""
    module = module_name(path)
    package = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
    found = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found += [(alias.name, node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[:len(package.split(".")) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            # `from artforge import config` imports the module artforge.config
            found += [(f"{target}.{a.name}" if target == "artforge" and a.name != "__version__" else target,
                       node.lineno) for a in node.names]
    return [(name, line) for name, line in dict.fromkeys(found) if name == "artforge" or name.startswith("artforge.")]


def layer_of(module: str) -> str:
    """The top-level part of artforge a module belongs to ('' for the package root)."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def points_against(src: str, dst: str) -> bool:
    a, b = layer_of(src), layer_of(dst)
    if a == b or b in LEAVES:
        return False
    if a in LEAVES:
        return True
    if a in SIBLINGS_APART and b in SIBLINGS_APART:
        return True
    return RANK[b] > RANK[a]


def violations() -> list[str]:
    found = []
    for path in sorted(SRC.rglob("*.py")):
        src = module_name(path)
        for dst, line in imports_of(path):
            if points_against(src, dst) and (src, dst) not in ALLOWED:
                found.append(f"{path.relative_to(SRC)}:{line}: {src} imports {dst}")
    return found


def test_every_package_is_placed_in_a_layer():
    tops = {layer_of(module_name(p)) for p in SRC.rglob("*.py")}
    assert tops - LEAVES - set(RANK) == set()


def test_imports_point_one_way():
    assert violations() == []


def test_allowed_exceptions_are_still_needed():
    """An exception whose import is gone is struck from the list, so the list never outlives its reason."""
    present = {(module_name(p), dst) for p in SRC.rglob("*.py") for dst, _ in imports_of(p)}
    assert set(ALLOWED) - present == set()


def test_the_check_sees_lazy_and_relative_imports(tmp_path, monkeypatch):
    pkg = tmp_path / "artforge"
    (pkg / "io").mkdir(parents=True)
    (pkg / "io" / "x.py").write_text("def f():\n    from ..data import melody\n    import artforge.models.lite\n")
    monkeypatch.setattr(sys.modules[__name__], "SRC", pkg)
    assert violations() == ["io/x.py:2: artforge.io.x imports artforge.data",
                            "io/x.py:3: artforge.io.x imports artforge.models.lite"]
