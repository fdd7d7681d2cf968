"""Every DSL example in examples/dsl runs as a script would, on the simulator with the
hazard checker on, and checks itself against numpy (each example's main() asserts)."""

from __future__ import annotations

import importlib.util
import pathlib

import pytest

import warpforge as wf

SANITIZE = "racecheck,initcheck"
"""Every kernel here is race free by design and reads only what it wrote."""

EXAMPLES = pathlib.Path(__file__).resolve().parents[2] / "examples" / "dsl"
NAMES = sorted(p.stem for p in EXAMPLES.glob("*.py"))


def load(name: str):
    spec = importlib.util.spec_from_file_location(f"example_{name}", EXAMPLES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_issue_s_nine_examples_are_here():
    assert {"saxpy", "reduce_smem", "reduce_shfl", "transpose", "matmul_naive",
            "matmul_tiled", "softmax", "histogram", "collatz"} <= set(NAMES)


@pytest.mark.parametrize("name", NAMES)
def test_example_runs_and_matches_numpy(name, capsys):
    with wf.device(wf.Simulator(arch="test", check_hazards=True, sanitize=SANITIZE)):
        load(name).main()
    assert capsys.readouterr().out.startswith(f"{name}: ")
