"""The ``warpforge`` command line: as/dis/run round trips on the examples, checked against
numpy, clean error messages for user errors, and the installed console script."""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import types
from pathlib import Path

import numpy as np
import pytest

from warpforge.cli import main, parse_dims
from warpforge.isa import decode

from .kernels import NAMES, blocks_for, collatz_steps, example_path, load_example


def run_cli(capsys, *argv: str) -> tuple[int, str, str]:
    """Run ``warpforge argv...`` in-process: (exit status, stdout, stderr)."""
    status = main([str(a) for a in argv])
    captured = capsys.readouterr()
    return status, captured.out, captured.err


# --- as / dis --------------------------------------------------------------------------------


@pytest.mark.parametrize("name", NAMES)
def test_as_then_dis_gives_the_canonical_text(capsys, tmp_path, name):
    binary = tmp_path / f"{name}.bin"
    status, out, err = run_cli(capsys, "as", example_path(name), "-o", binary)
    program = load_example(name)
    assert (status, err) == (0, "")
    data = binary.read_bytes()
    assert decode(data) == program
    assert out.strip() == f"{name}: {len(program)} instructions, {len(data)} bytes -> {binary}"

    status, out, err = run_cli(capsys, "dis", binary)
    assert (status, err) == (0, "")
    assert out.rstrip("\n") == str(program).rstrip("\n")


def test_as_writes_next_to_the_source_by_default_and_leaves_no_temporary(capsys, tmp_path):
    source = tmp_path / "k.sass"
    shutil.copy(example_path("saxpy"), source)
    assert run_cli(capsys, "as", source)[0] == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["k.bin", "k.sass"]
    umask = os.umask(0)
    os.umask(umask)
    assert (tmp_path / "k.bin").stat().st_mode & 0o777 == 0o666 & ~umask
    assert decode((tmp_path / "k.bin").read_bytes()) == load_example("saxpy")


# --- run -------------------------------------------------------------------------------------


def test_run_saxpy_from_npy_files_matches_numpy(capsys, tmp_path):
    n = 1000
    rng = np.random.default_rng(1)
    x = (rng.integers(-4096, 4096, n) / 16).astype(np.float32)  # a*x exact: FFMA == numpy
    y = rng.standard_normal(n).astype(np.float32)
    np.save(tmp_path / "x.npy", x)
    np.save(tmp_path / "y.npy", y)
    saved = tmp_path / "out"
    status, out, err = run_cli(
        capsys, "run", example_path("saxpy"), "--grid", blocks_for(n, 256), "--block", 256,
        "--arg", n, "--arg", "1.75", "--arg", tmp_path / "x.npy", "--arg", tmp_path / "y.npy",
        "--save-dir", saved, "--check-hazards", "--arch", "test")
    assert (status, err) == (0, "")
    np.testing.assert_array_equal(np.load(saved / "y.npy"), np.float32(1.75) * x + y)
    np.testing.assert_array_equal(np.load(saved / "x.npy"), x)
    assert "y (f32*, 1000 elements):" in out
    assert out.strip().splitlines()[-1].startswith("saxpy: ")


def test_run_a_binary_with_generated_arguments(capsys, tmp_path):
    binary = tmp_path / "reduce_shfl.bin"
    assert run_cli(capsys, "as", example_path("reduce_shfl"), "-o", binary)[0] == 0
    status, out, err = run_cli(
        capsys, "run", binary, "--grid", "(4,)", "--block", "256",
        "--arg", "arange:1000", "--arg", "zeros:1", "--arg", "1000", "--full",
        "--save-dir", tmp_path, "--arch", "test")
    assert (status, err) == (0, "")
    assert np.load(tmp_path / "out.npy").tolist() == [999 * 1000 / 2]
    assert "[499500.]" in out
    # --full prints every element of x.
    assert "999." in out and "..." not in out.split("out (f32*")[0]


def test_run_comma_lists_and_seeded_random_arrays(capsys, tmp_path):
    status, _, err = run_cli(
        capsys, "run", example_path("divergent_loops"), "--grid", 1, "--block", 32,
        "--arg", 5, "--arg", "27,1,0,6,7", "--arg", "zeros:5", "--save-dir", tmp_path,
        "--arch", "test")
    assert (status, err) == (0, "")
    steps = np.load(tmp_path / "steps.npy")
    assert steps.dtype == np.uint32
    np.testing.assert_array_equal(steps, collatz_steps(np.array([27, 1, 0, 6, 7])))

    saved = []
    for _ in range(2):
        status, _, err = run_cli(
            capsys, "run", example_path("divergent_loops"), "--grid", 2, "--block", 32,
            "--arg", 64, "--arg", "rand:64", "--arg", "zeros:64", "--seed", 5,
            "--save-dir", tmp_path, "--arch", "test")
        assert (status, err) == (0, "")
        x = np.load(tmp_path / "x.npy")
        np.testing.assert_array_equal(np.load(tmp_path / "steps.npy"), collatz_steps(x))
        saved.append(x)
    np.testing.assert_array_equal(saved[0], saved[1])  # same seed, same inputs


def test_run_abbreviates_large_arrays_by_default(capsys):
    status, out, _ = run_cli(
        capsys, "run", example_path("saxpy"), "--grid", 4, "--block", 256,
        "--arg", 1000, "--arg", 2, "--arg", "ones:1000", "--arg", "arange:1000",
        "--arch", "test")
    assert status == 0
    y_text = out.split("y (f32*, 1000 elements):")[1]
    numbers = y_text.split("]")[0].replace("[", " ").split()
    # y = 2 * 1 + arange(1000): the first and last four elements, and an ellipsis between.
    assert numbers == ["2.", "3.", "4.", "5.", "...", "998.", "999.", "1000.", "1001."]
    # Stats: all 32 warps run the 14 instructions (warp 31 holds threads 992..1023, of which
    # 1000..1023 leave at the 7th, the @P0 EXIT): 32 * 14 warp-instructions and
    # 1000 * 14 + 24 * 7 thread-instructions.
    last = out.strip().splitlines()[-1]
    assert last.startswith("saxpy: 448 warp-instructions, 14,168 thread-instructions, ")


# --- user errors: exit 1, one clean message, no traceback -------------------------------------


def assert_clean_error(status: int, out: str, err: str, *fragments: str) -> None:
    assert status == 1
    assert err.startswith("warpforge: error: ")
    assert "Traceback" not in err
    for fragment in fragments:
        assert fragment in err


def test_missing_file(capsys, tmp_path):
    missing = tmp_path / "nope.sass"
    for command in ("as", "dis"):
        status, out, err = run_cli(capsys, command, missing)
        assert_clean_error(status, out, err, f"cannot read {missing}")
    target = tmp_path / "no" / "such" / "dir" / "k.bin"
    status, out, err = run_cli(capsys, "as", example_path("saxpy"), "-o", target)
    assert_clean_error(status, out, err, "cannot write")


def test_bad_assembly_names_file_line_and_column(capsys, tmp_path):
    source = tmp_path / "bad.sass"
    source.write_text(".kernel bad\n\n        FROB R1, R2 ;\n        EXIT ;\n")
    for command in (("as", source), ("dis", source),
                    ("run", source, "--grid", 1, "--block", 1)):
        status, out, err = run_cli(capsys, *command)
        assert_clean_error(status, out, err, f"{source}:3:9")
    assert not (tmp_path / "bad.bin").exists()


def test_corrupt_binary(capsys, tmp_path):
    binary = tmp_path / "k.bin"
    assert run_cli(capsys, "as", example_path("saxpy"), "-o", binary)[0] == 0
    binary.write_bytes(binary.read_bytes()[:-7])
    assert_clean_error(*run_cli(capsys, "dis", binary))


def test_wrong_number_of_arguments(capsys):
    status, out, err = run_cli(capsys, "run", example_path("saxpy"), "--grid", 1,
                               "--block", 32, "--arg", 10)
    assert_clean_error(status, out, err, "4 parameter(s)", "n (i32)", "y (f32*)",
                       "but 1 --arg")


@pytest.mark.parametrize(("arg", "fragment"), [
    ("2.5", "--arg 1 (n: i32): expected an integer"),
    ("0x80000000", "does not fit in int32"),
])
def test_bad_scalar_argument(capsys, arg, fragment):
    status, out, err = run_cli(capsys, "run", example_path("saxpy"), "--grid", 1,
                               "--block", 32, "--arg", arg, "--arg", 1, "--arg", "zeros:1",
                               "--arg", "zeros:1")
    assert_clean_error(status, out, err, fragment)


def test_bad_array_argument(capsys, tmp_path):
    for spec, fragment in (("zeros:lots", "element count"), ("1,x", "expected a number"),
                           (str(tmp_path / "none.npy"), "cannot load")):
        status, out, err = run_cli(capsys, "run", example_path("saxpy"), "--grid", 1,
                                   "--block", 32, "--arg", 1, "--arg", 1, "--arg", spec,
                                   "--arg", "zeros:1")
        assert_clean_error(status, out, err, "--arg 3 (x: f32*)", fragment)


def test_memory_fault_in_the_kernel(capsys):
    # n says 64 elements but x has only 10: the load of x[10] is out of bounds.
    status, out, err = run_cli(capsys, "run", example_path("saxpy"), "--grid", 1,
                               "--block", 64, "--arg", 64, "--arg", 1, "--arg", "zeros:10",
                               "--arg", "zeros:64", "--arch", "test")
    assert_clean_error(status, out, err, "Invalid __global__ read", "saxpy")


def test_usage_errors_exit_2(capsys):
    status, _, err = run_cli(capsys, "run", example_path("saxpy"), "--grid", "0",
                             "--block", 32)
    assert status == 2 and "invalid dimensions" in err
    assert run_cli(capsys, "frobnicate")[0] == 2
    assert run_cli(capsys)[0] == 2


# --- help, dimensions, demo --------------------------------------------------------------------


def test_help(capsys):
    status, out, _ = run_cli(capsys, "--help")
    assert status == 0
    for command in ("as", "dis", "run", "demo"):
        assert command in out
    status, out, _ = run_cli(capsys, "run", "--help")
    assert status == 0
    for fragment in ("--grid", "--block", "zeros:N", "rand:N", ".npy", "--seed", "--full",
                     "--save-dir", "--arch", "--check-hazards"):
        assert fragment in out


@pytest.mark.parametrize(("text", "dims"), [
    ("4", (4,)), ("4,2", (4, 2)), ("(4,2)", (4, 2)), (" ( 4, 2, 3 ) ", (4, 2, 3)),
    ("(8,)", (8,)), ("16x16", (16, 16)),
])
def test_parse_dims(text, dims):
    assert parse_dims(text) == dims


@pytest.mark.parametrize("text", ["", "0", "-1", "1,2,3,4", "a", "(4,2"])
def test_parse_dims_rejects(text):
    with pytest.raises(argparse.ArgumentTypeError):
        parse_dims(text)


def test_demo_dispatches_to_the_demo_module(capsys, monkeypatch):
    calls = []
    fake = types.ModuleType("warpforge.demo")
    fake.main = lambda: calls.append("demo") or 3
    monkeypatch.setitem(sys.modules, "warpforge.demo", fake)
    assert run_cli(capsys, "demo")[0] == 3  # the demo's own exit status
    assert calls == ["demo"]
    assert run_cli(capsys, "demo", "--fast")[0] == 2  # the demo takes no options


# --- the installed console script ---------------------------------------------------------------


def test_console_script_runs(capsys, tmp_path):
    script = shutil.which("warpforge") or str(Path(sys.executable).with_name("warpforge"))
    binary = tmp_path / "saxpy.bin"
    assert run_cli(capsys, "as", example_path("saxpy"), "-o", binary)[0] == 0
    done = subprocess.run([script, "dis", str(binary)], capture_output=True, text=True,
                          timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.rstrip("\n") == str(load_example("saxpy")).rstrip("\n")


# --- warpforge asm: compiling a @wf.kernel from a file --------------------------------------

KERNEL_FILE = '''
import warpforge as wf


@wf.kernel
def scale(x: wf.f32[:], n: wf.i32, F: wf.constexpr):
    i = wf.block_idx.x * wf.block_dim.x + wf.thread_idx.x
    if i < n:
        x[i] = x[i] * F
'''


def test_asm_prints_the_compiled_kernel_and_its_ir(tmp_path, capsys):
    from warpforge.isa import assemble

    path = tmp_path / "kernels.py"
    path.write_text(KERNEL_FILE)
    assert main(["asm", f"{path}:scale", "--types", "f32[:],i32", "-D", "F=3"]) == 0
    asm = capsys.readouterr().out
    program = assemble(asm)
    assert program.name == "scale" and any(i.opcode == "FMUL" for i in program.instructions)
    assert main(["asm", f"{path}:scale", "--types", "f32[:], i32", "-D", "F=3", "--ir"]) == 0
    ir = capsys.readouterr().out
    assert ir.startswith("kernel @scale(") and "mul" in ir and '["F", 3]' in ir


def test_asm_prints_llvm_ir_and_host_assembly_for_the_cpu(tmp_path, capsys):
    path = tmp_path / "kernels.py"
    path.write_text(KERNEL_FILE)
    argv = ["asm", f"{path}:scale", "--types", "f32[:],i32", "-D", "F=3", "--block", "64"]
    assert main([*argv, "--llvm"]) == 0
    llvm_ir = capsys.readouterr().out
    assert "i32 @scale_ctas(ptr" in llvm_ir and "fmul" in llvm_ir
    assert main([*argv, "--native"]) == 0
    native = capsys.readouterr().out
    assert "scale_ctas:" in native and "mul" in native  # vmulps (AVX) or mulps (SSE)
    assert main([*argv[:-2], "--native", "--block", "2,x"]) == 1
    assert "--block takes up to 3 comma-separated ints" in capsys.readouterr().err


@pytest.mark.parametrize("spec, types, defines, words", [
    ("{path}:nope", "f32[:],i32", ["F=1"], "has no @wf.kernel named 'nope' (kernels: scale)"),
    ("{path}", "f32[:],i32", ["F=1"], "name the kernel as FILE.py:KERNEL"),
    ("{path}:scale", "f32[:]", ["F=1"], "2 runtime parameters (x, n) but 1 types"),
    ("{path}:scale", "f32[:],i32", [], "give a value for constexpr F"),
    ("{path}:scale", "f32[:],i33", ["F=1"], "unknown type 'i33'"),
    ("{path}:scale", "f32[:],i32", ["F"], "-D takes NAME=VALUE"),
    ("{path}:scale", "i32[:],i32", ["F=1"], "parameter 'x' is f32[:], not i32[:]"),
])
def test_asm_errors_are_one_clean_line(tmp_path, capsys, spec, types, defines, words):
    path = tmp_path / "kernels.py"
    path.write_text(KERNEL_FILE)
    argv = ["asm", spec.format(path=path), "--types", types]
    for d in defines:
        argv += ["-D", d]
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert err.startswith("warpforge: error: ") and words in err, err
    assert "Traceback" not in err
