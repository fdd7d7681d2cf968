"""Golden assembly of the DSL examples: instruction selection, scheduling, register
allocation and control codes, shown as a diff whenever a change alters them.

Run ``pytest tests/e2e/test_golden.py --update-golden`` to rewrite the files on purpose
(and read the diff before committing it).
"""

from __future__ import annotations

import pathlib

import pytest

from .test_dsl_examples import EXAMPLES, load

GOLDEN = pathlib.Path(__file__).resolve().parents[1] / "golden"
CASES = {  # example: (kernel, runtime parameter types, constexprs)
    "saxpy": ("saxpy", "f32,f32[:],f32[:],i32", {}),
    "reduce_smem": ("reduce_sum", "f32[:],f32[:],i32", {}),
    "reduce_shfl": ("reduce_shfl", "f32[:],f32[:],i32", {}),
    "transpose": ("transpose", "f32[:, :],f32[:, :],i32,i32", {}),
    "matmul_naive": ("matmul", "f32[:, :],f32[:, :],f32[:, :],i32,i32,i32", {}),
    "matmul_tiled": ("matmul_tiled", "f32[:, :],f32[:, :],f32[:, :],i32", {}),
    "softmax": ("softmax", "f32[:, :],f32[:, :],i32", {}),
    "histogram": ("histogram", "i32[:],i32[:],i32", {}),
    "collatz": ("collatz", "i32[:],i32[:],i32", {}),
}


def assembly(name: str) -> str:
    """The example's assembly, with its source paths relative to the repository."""
    from warpforge.kernelfile import parse_types

    kernel_name, types, constexprs = CASES[name]
    kernel = getattr(load(name), kernel_name)
    asm = kernel.compile_types(parse_types(types), **constexprs).asm
    return asm.replace(str(EXAMPLES), "examples/dsl")


@pytest.mark.parametrize("name", sorted(CASES))
def test_assembly_matches_the_golden_file(name, request):
    path = GOLDEN / f"{name}.sass"
    text = assembly(name)
    if request.config.getoption("--update-golden"):
        path.parent.mkdir(exist_ok=True)
        path.write_text(text)
    assert path.exists(), f"no golden file {path.name}: run pytest --update-golden"
    assert text == path.read_text(), f"{name}: the assembly changed (see the diff above)"
