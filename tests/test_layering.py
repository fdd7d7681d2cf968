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


def imported_layers(path: pathlib.Path, layer: str) -> list[tuple[int, str]]:
    """(line, layer) for each import of another layer of ours in ``path``."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names = [(alias.name, 0) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            names = [(node.module or "", node.level)]
        else:
            continue
        for name, level in names:
            parts = name.split(".") if name else []
            if level == 0:
                if parts and parts[0] == "warpforge":
                    target = parts[1] if len(parts) > 1 and parts[1] in LAYERS else "warpforge"
                else:
                    continue
            elif level == 1:
                target = layer
            else:
                target = parts[0] if parts and parts[0] in LAYERS else "warpforge"
            if target != layer:
                found.append((node.lineno, target))
    return found


@pytest.mark.parametrize("layer", LAYERS)
def test_layer_imports_only_what_it_may(layer):
    broken = [
        f"{path.relative_to(ROOT)}:{line}: {layer}/ imports {target}/"
        for path in sorted((ROOT / layer).rglob("*.py"))
        for line, target in imported_layers(path, layer)
        if target not in MAY_IMPORT[layer]
    ]
    assert not broken, "\n".join(broken)


def test_checker_sees_an_upward_import(tmp_path):
    """The checker itself must catch a violation, or the test above proves nothing."""
    bad = tmp_path / "bad.py"
    bad.write_text("from ..simulator import Simulator\nimport warpforge.dsl\n")
    assert imported_layers(bad, "isa") == [(1, "simulator"), (2, "dsl")]
