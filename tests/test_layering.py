"""The layering rules of DESIGN.md, checked on every module's imports.

isa/ imports nothing of ours; simulator/ and compiler/ import only isa/; dsl/ glues them;
libs/ uses only the public face. An arrow that points upward is a design error.
"""

from __future__ import annotations

import ast
import pathlib

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
LAYERS = ("isa", "simulator", "compiler", "dsl", "libs", "warpforge")
MAY_IMPORT = {
    "isa": set(),
    "simulator": {"isa"},
    "compiler": {"isa"},
    "dsl": {"isa", "simulator", "compiler"},
    "libs": {"dsl", "warpforge"},
    "warpforge": set(LAYERS),
}


def imported_layers(source: str, module: list[str]) -> list[tuple[int, str]]:
    """(line, layer) for each import of another layer of ours in ``source``, the text of
    the module whose dotted path below the project root is ``module``.

    Relative imports resolve against the module's real package, however deep it sits
    (``from ..errors import X`` in ``compiler/ir/core.py`` is ``compiler.errors``).
    """
    layer, package = module[0], module[:-1]
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names = [(alias.name, 0) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            names = [(node.module or "", node.level)]
        else:
            continue
        for name, level in names:
            parts = name.split(".") if name else []
            if level == 0:
                if not parts or parts[0] != "warpforge":
                    continue
                target = parts[1] if len(parts) > 1 and parts[1] in LAYERS else "warpforge"
            else:
                absolute = package[: len(package) - (level - 1)] + parts
                target = absolute[0] if absolute and absolute[0] in LAYERS else "warpforge"
            if target != layer:
                found.append((node.lineno, target))
    return found


@pytest.mark.parametrize("layer", LAYERS)
def test_layer_imports_only_what_it_may(layer):
    broken = []
    for path in sorted((ROOT / layer).rglob("*.py")):
        module = [layer, *path.relative_to(ROOT / layer).with_suffix("").parts]
        broken += [
            f"{path.relative_to(ROOT)}:{line}: {layer}/ imports {target}/"
            for line, target in imported_layers(path.read_text(), module)
            if target not in MAY_IMPORT[layer]
        ]
    assert not broken, "\n".join(broken)


def test_checker_sees_an_upward_import():
    """The checker itself must catch a violation, or the test above proves nothing."""
    source = "from ..simulator import Simulator\nimport warpforge.dsl\n"
    assert imported_layers(source, ["isa", "program"]) == [(1, "simulator"), (2, "dsl")]


def test_relative_imports_resolve_from_nested_packages():
    """``from ..errors`` two levels down stays in the layer; ``from ...isa`` leaves it."""
    source = "from ..errors import E\nfrom ...isa.program import SourceLoc\nfrom . import ops\n"
    assert imported_layers(source, ["compiler", "ir", "core"]) == [(2, "isa")]
