"""The ``warpforge`` command line: compile kernels; assemble, disassemble and run SASS.

``warpforge as FILE.sass`` writes the binary form, ``warpforge dis FILE.bin`` prints the
canonical text, ``warpforge asm FILE.py:KERNEL --types ...`` prints a compiled kernel's
assembly (or IR, or for the CPU its LLVM IR or host assembly), ``warpforge run
FILE.sass|FILE.bin --grid G --block B --arg ...`` launches a kernel on the simulator with
arguments built from the command line and prints the pointer arguments and the launch
statistics afterwards, and ``warpforge demo`` runs the guided tour.

User errors (a missing file, bad assembly, a bad argument, a fault inside the kernel) print
one clean message on stderr and exit with status 1; usage errors exit with status 2, as
argparse does.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import os
import re
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from .isa import Program, WarpforgeError, assemble, decode
from .isa.container import MAGIC
from .simulator.launch import NUMPY_TYPES

PROG = "warpforge"

ARG_HELP = """\
Each --arg fills the next kernel parameter, in the order of the .param lines.
For a pointer parameter (e.g. f32*), an array of its element type:
  zeros:N  ones:N  arange:N  rand:N   N elements (rand: uniform in [0, 1) for
                                      floats, integers in [0, 100), seeded by --seed)
  FILE.npy                            an array saved with numpy.save
  1,2,3                               these values
For a scalar parameter (e.g. i32, f32), a number: 1000, 0x3e8, 2.5.
"""


class CommandError(WarpforgeError):
    """A bad command-line value, reported like any other user error."""


# --- parsing command-line values ------------------------------------------------------------

def parse_dims(text: str) -> tuple[int, ...]:
    """Launch dimensions from ``4``, ``4,2``, ``(4,2)`` or ``4x2``: one to three positive ints."""
    inner = text.strip()
    if inner.startswith("(") and inner.endswith(")"):
        inner = inner[1:-1]
    parts = [p.strip() for p in re.split(r"[,x]", inner)]
    if parts and parts[-1] == "" and len(parts) > 1:
        parts.pop()  # "(4,)"
    try:
        dims = tuple(int(p) for p in parts)
    except ValueError:
        dims = ()
    if not 1 <= len(dims) <= 3 or any(d < 1 for d in dims):
        raise argparse.ArgumentTypeError(
            f"invalid dimensions {text!r}: expected 1 to 3 positive integers, like 4, 4,2 or (4,2)"
        )
    return dims


def _number(text: str, dtype: np.dtype, what: str):
    """``text`` as a numpy scalar of ``dtype``, range-checked for integers."""
    text = text.strip()
    try:
        value = float(text) if dtype.kind == "f" else int(text, 0)
    except ValueError:
        kind = "a number" if dtype.kind == "f" else "an integer"
        raise CommandError(f"{what}: expected {kind}, got {text!r}") from None
    if dtype.kind in "iu":
        info = np.iinfo(dtype)
        if not info.min <= value <= info.max:
            raise CommandError(f"{what}: {value} does not fit in {dtype.name} "
                               f"({info.min}..{info.max})")
    return dtype.type(value)


def _count(text: str, what: str) -> int:
    try:
        n = int(text, 0)
    except ValueError:
        n = -1
    if n < 0:
        raise CommandError(f"{what}: expected a non-negative element count, got {text!r}")
    return n


def make_array(spec: str, dtype: np.dtype, rng: np.random.Generator, what: str) -> np.ndarray:
    """The array a pointer ``--arg`` spec stands for (see :data:`ARG_HELP`)."""
    kind, sep, rest = spec.partition(":")
    if sep and kind in ("zeros", "ones", "arange", "rand"):
        n = _count(rest, what)
        if kind == "zeros":
            return np.zeros(n, dtype)
        if kind == "ones":
            return np.ones(n, dtype)
        if kind == "arange":
            return np.arange(n).astype(dtype)
        if dtype.kind == "f":
            return rng.random(n).astype(dtype)
        return rng.integers(0, 100, n).astype(dtype)
    if spec.endswith(".npy"):
        try:
            loaded = np.load(spec, allow_pickle=False)
        except (OSError, ValueError) as exc:
            raise CommandError(f"{what}: cannot load {spec}: {exc}") from None
        if not np.can_cast(loaded.dtype, dtype, casting="same_kind"):
            raise CommandError(f"{what}: {spec} holds {loaded.dtype}, which does not convert "
                               f"to {dtype.name}")
        return np.ascontiguousarray(loaded, dtype=dtype).reshape(-1)
    items = [item for item in spec.split(",") if item.strip()]
    if not items:
        raise CommandError(f"{what}: expected zeros:N, ones:N, arange:N, rand:N, a .npy "
                           f"file or a comma list of values, got {spec!r}")
    return np.array([_number(item, dtype, what) for item in items], dtype)


def build_args(program: Program, specs: Sequence[str], seed: int) -> list:
    """Launch arguments for ``program`` from the ``--arg`` specs, one per parameter."""
    params = program.params
    if len(specs) != len(params):
        listing = ", ".join(f"{p.name} ({p.type})" for p in params) or "none"
        raise CommandError(f"kernel '{program.name}' takes {len(params)} parameter(s) "
                           f"[{listing}], but {len(specs)} --arg value(s) were given")
    rng = np.random.default_rng(seed)
    values = []
    for k, (param, spec) in enumerate(zip(params, specs, strict=True), start=1):
        what = f"--arg {k} ({param.name}: {param.type})"
        dtype = NUMPY_TYPES.get(param.element_type)
        if dtype is None:
            raise CommandError(f"{what}: unsupported parameter type")
        if param.is_pointer:
            values.append(make_array(spec, dtype, rng, what))
        else:
            values.append(_number(spec, dtype, what))
    return values


# --- files ----------------------------------------------------------------------------------

def _read_bytes(path: str) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise CommandError(f"cannot read {path}: {exc.strerror or exc}") from None


def load_program(path: str) -> Program:
    """A program from a binary (recognised by its magic number) or an assembly text file."""
    data = _read_bytes(path)
    if data.startswith(MAGIC):
        return decode(data)
    return assemble(_as_text(data, path), filename=path)


def _as_text(data: bytes, path: str) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise CommandError(f"{path} is neither a warpforge binary nor UTF-8 assembly "
                           f"text") from None


def _file_mode(path: Path) -> int:
    """The permissions a new file at ``path`` gets: the old file's, else 0o666 less the umask
    (``mkstemp`` creates its files readable by their owner only)."""
    try:
        return path.stat().st_mode & 0o7777
    except OSError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


def write_atomically(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file in the same folder and a rename,
    so that readers see the old file or the new one, never a part."""
    folder = path.parent
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        os.chmod(tmp, _file_mode(path))
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


# --- subcommands ----------------------------------------------------------------------------

def cmd_as(args: argparse.Namespace) -> int:
    """``warpforge as``: assemble a text file into a binary file."""
    source = Path(args.file)
    program = assemble(_as_text(_read_bytes(args.file), args.file), filename=args.file)
    data = program.encode()
    output = Path(args.output) if args.output else source.with_suffix(".bin")
    try:
        write_atomically(output, data)
    except OSError as exc:
        raise CommandError(f"cannot write {output}: {exc.strerror or exc}") from None
    print(f"{program.name}: {len(program)} instructions, {len(data)} bytes -> {output}")
    return 0


def cmd_dis(args: argparse.Namespace) -> int:
    """``warpforge dis``: print a binary (or text) program's canonical text."""
    text = str(load_program(args.file))
    sys.stdout.write(text if text.endswith("\n") else text + "\n")
    return 0


def _format_array(array: np.ndarray, full: bool) -> str:
    threshold = sys.maxsize if full else 20
    return np.array2string(array, threshold=threshold, edgeitems=4, max_line_width=96)


def _stats_line(result, program: Program) -> str:
    """One line: warp- and thread-instructions executed, cycles when timed, host time."""
    stats = getattr(result, "stats", None) or {}
    parts = [f"{stats[key]:,} {label}" for key, label in
             (("instructions", "warp-instructions"),
              ("thread_instructions", "thread-instructions")) if key in stats]
    cycles = getattr(result, "cycles", None)
    if cycles is not None:
        parts.append(f"{cycles:,} cycles")
    elapsed = getattr(result, "elapsed_s", None)
    if elapsed is not None:
        parts.append(f"{elapsed:.3f} s")
    return f"{program.name}: " + (", ".join(parts) if parts else "done")


def cmd_run(args: argparse.Namespace) -> int:
    """``warpforge run``: launch a kernel on the simulator and print what it wrote."""
    from .simulator import Simulator

    program = load_program(args.file)
    values = build_args(program, args.arg or [], args.seed)
    sim = Simulator(arch=args.arch, check_hazards=args.check_hazards)
    result = sim.launch(program, args.grid, args.block, values)
    save_dir = Path(args.save_dir) if args.save_dir else None
    if save_dir is not None:
        try:
            save_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise CommandError(f"cannot create {save_dir}: {exc.strerror or exc}") from None
    for param, value in zip(program.params, values, strict=True):
        if not param.is_pointer:
            continue
        print(f"{param.name} ({param.type}, {value.size} elements):")
        print(_format_array(value, args.full))
        if save_dir is not None:
            target = save_dir / f"{param.name}.npy"
            np.save(target, value)
            print(f"  saved to {target}")
    print(_stats_line(result, program))
    if args.report:
        print(result.report())
    return 0


def cmd_asm(args: argparse.Namespace) -> int:
    """``warpforge asm FILE.py:KERNEL --types ... -D NAME=VALUE [--ir | --llvm | --native]
    [--block X,Y,Z]``."""
    from .kernelfile import load_kernel, parse_defines, parse_types

    kernel = load_kernel(args.kernel)
    target = "cpu" if args.llvm or args.native else "sim"
    extra = {"block": _block_dims(args.block)} if target == "cpu" else {}
    compiled = kernel.compile_types(parse_types(args.types), target=target, **extra,
                                    **parse_defines(args.define))
    if args.ir:
        text = compiled.ir
    elif args.llvm:
        text = compiled.llvm_ir
    elif args.native:
        text = compiled.native_asm
    else:
        text = compiled.asm
    print(text, end="" if text.endswith("\n") else "\n")
    return 0


def _block_dims(text: str | None) -> tuple[int, ...] | None:
    """``--block 16,16`` as a tuple of ints (None when not given), read as ``run``'s
    ``--grid``/``--block`` are (:func:`parse_dims`)."""
    if text is None:
        return None
    try:
        return parse_dims(text)
    except argparse.ArgumentTypeError:
        raise CommandError(f"--block takes up to 3 comma-separated ints, each at least 1, "
                           f"not {text!r}") from None


def cmd_demo(args: argparse.Namespace) -> int:
    """``warpforge demo``: the guided tour, when this installation has it."""
    name = f"{__package__}.demo"
    try:
        demo = importlib.import_module(name)
    except ModuleNotFoundError as exc:
        if exc.name != name:
            raise
        raise CommandError("the demo is not available in this installation") from None
    return int(demo.main() or 0)


# --- the parser -----------------------------------------------------------------------------

def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``warpforge`` command."""
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="warpforge: a GPU software stack in miniature. Assemble, disassemble "
                    "and run SASS-like kernels on the GPU simulator.",
        epilog=f"Run '{PROG} COMMAND --help' for a command's options.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    p_as = sub.add_parser("as", help="assemble a .sass file into a binary",
                          description="Assemble FILE (SASS-like text) into its binary form.")
    p_as.add_argument("file", metavar="FILE.sass", help="assembly text")
    p_as.add_argument("-o", "--output", metavar="FILE.bin",
                      help="where to write the binary (default: FILE with a .bin suffix)")
    p_as.set_defaults(func=cmd_as)

    p_dis = sub.add_parser("dis", help="print a binary's canonical assembly text",
                           description="Decode FILE and print its canonical assembly text (an "
                                       "assembly text FILE is printed in canonical form).")
    p_dis.add_argument("file", metavar="FILE.bin", help="a binary written by 'warpforge as'")
    p_dis.set_defaults(func=cmd_dis)

    p_run = sub.add_parser(
        "run", help="run a kernel on the simulator",
        description="Launch a kernel (assembly text or binary) on the GPU simulator, then\n"
                    "print its pointer arguments and the launch statistics.",
        epilog=ARG_HELP, formatter_class=argparse.RawDescriptionHelpFormatter)
    p_run.add_argument("file", metavar="FILE", help="a .sass text file or a .bin binary")
    p_run.add_argument("--grid", type=parse_dims, required=True, metavar="G",
                       help="grid dimensions: 4, 4,2 or (4,2,1)")
    p_run.add_argument("--block", type=parse_dims, required=True, metavar="B",
                       help="block dimensions: 256, 16,16 or (16,16)")
    p_run.add_argument("--arg", action="append", metavar="SPEC",
                       help="the next parameter's value (repeat, one per parameter; see below)")
    p_run.add_argument("--seed", type=int, default=0, help="seed for rand:N (default 0)")
    p_run.add_argument("--arch", choices=("ampere", "test"), default="ampere",
                       help="simulated machine (default ampere)")
    p_run.add_argument("--check-hazards", action="store_true",
                       help="check every register dependence against the control codes")
    p_run.add_argument("--full", action="store_true",
                       help="print arrays in full instead of abbreviated")
    p_run.add_argument("--save-dir", metavar="DIR",
                       help="also save each pointer argument as DIR/NAME.npy")
    p_run.add_argument("--report", action="store_true",
                       help="print the simulator's profile report after the launch")
    p_run.set_defaults(func=cmd_run)

    p_asm = sub.add_parser(
        "asm", help="compile a @wf.kernel and print its assembly (or IR, LLVM IR, host asm)",
        description="Compile the @wf.kernel KERNEL of FILE.py for the given parameter types "
                    "and constexpr values, and print its SASS-like assembly; with --llvm or "
                    "--native, compile it for the CPU instead and print its LLVM IR or its "
                    "host assembly.")
    p_asm.add_argument("kernel", metavar="FILE.py:KERNEL", help="the kernel to compile")
    p_asm.add_argument("--types", default="", metavar="T,T,...",
                       help="one type per runtime parameter, in order: f32,f32[:],i32 "
                            "(not needed when every parameter is annotated)")
    p_asm.add_argument("-D", dest="define", action="append", default=[],
                       metavar="NAME=VALUE", help="a constexpr parameter's value")
    shown = p_asm.add_mutually_exclusive_group()
    shown.add_argument("--ir", action="store_true",
                       help="print the optimized IR instead of the assembly")
    shown.add_argument("--llvm", action="store_true",
                       help="compile for the CPU and print the optimized LLVM IR")
    shown.add_argument("--native", action="store_true",
                       help="compile for the CPU and print the host assembly")
    p_asm.add_argument("--block", metavar="X[,Y[,Z]]",
                       help="the block shape CPU code is specialized for (default 128)")
    p_asm.set_defaults(func=cmd_asm)

    p_demo = sub.add_parser("demo", help="a guided tour of warpforge",
                            description="Run the guided tour of warpforge's layers.")
    p_demo.set_defaults(func=cmd_demo)

    p_numba = sub.add_parser(
        "numba", help="run a script written for Numba's CUDA target on warpforge",
        description="Run SCRIPT.py with 'import numba' (and 'from numba import cuda') served "
                    "by warpforge, as NUMBA_ENABLE_CUDASIM=1 serves Numba's simulator: its "
                    "@cuda.jit kernels run on the simulator or natively on the CPU.")
    p_numba.add_argument("--device", choices=("sim", "cpu"), default=None,
                         help="where kernels run (default: WARPFORGE_DEVICE, else sim)")
    p_numba.add_argument("--profile", action="store_true",
                         help="print each launch's report after it")
    p_numba.add_argument("script", metavar="SCRIPT.py", help="the script to run")
    p_numba.add_argument("args", nargs=argparse.REMAINDER, help="the script's arguments")
    p_numba.set_defaults(func=cmd_numba)

    p_prof = sub.add_parser(
        "profile", help="run a script on the timed simulator and report each launch",
        description="Run SCRIPT.py with the timed simulator as the current device and print "
                    "each kernel launch's report (speed of light, occupancy, warp state, "
                    "memory, source lines), as 'ncu python SCRIPT.py' does.")
    p_prof.add_argument("--kernel", metavar="NAME", help="report only launches of NAME")
    p_prof.add_argument("--trace", metavar="OUT.json",
                        help="write each reported launch's Perfetto trace (OUT.json, then "
                             "OUT-2.json, ...)")
    p_prof.add_argument("--csv", action="store_true",
                        help="print the per-source-line profile as CSV instead of reports")
    p_prof.add_argument("--arch", choices=("ampere", "test"), default="ampere",
                        help="simulated machine (default ampere)")
    p_prof.add_argument("--scheduler", choices=("gto", "lrr"), default="gto",
                        help="warp scheduling policy (default gto)")
    p_prof.add_argument("--full", action="store_true",
                        help="time every CTA instead of sampling large grids")
    p_prof.add_argument("script", metavar="SCRIPT.py", help="the script to run")
    p_prof.add_argument("args", nargs=argparse.REMAINDER, help="the script's arguments")
    p_prof.set_defaults(func=cmd_profile)

    p_tune = sub.add_parser("tune", help="tune a library template for a problem size",
                            description="Search a library template's configurations for "
                                        "one problem and print the trials and the winner.")
    tune_sub = p_tune.add_subparsers(dest="template", metavar="TEMPLATE", required=True)
    p_gemm = tune_sub.add_parser("gemm", help="the SIMT GEMM template (libs.gemm)",
                                 description="Tune libs.gemm's SIMT template for an M x N "
                                             "x K float32 matmul.")
    for name in ("M", "N", "K"):
        p_gemm.add_argument(f"-{name}", type=int, required=True, help=f"problem size {name}")
    p_gemm.add_argument("--device", choices=("sim", "cpu"), default="sim",
                        help="where trials run (default sim: simulated cycles)")
    p_gemm.add_argument("--arch", choices=("ampere", "test"), default="ampere",
                        help="simulated machine (default ampere)")
    p_gemm.add_argument("--strategy", choices=("model", "exhaustive", "random"),
                        default="model", help="search strategy (default model)")
    p_gemm.add_argument("--budget", type=int, default=None, help="configs to measure")
    p_gemm.add_argument("--effort", choices=("quick", "full"), default="quick",
                        help="the model strategy's default budget: 12 or 40 configs")
    where = p_gemm.add_mutually_exclusive_group()
    where.add_argument("--workers", type=int, default=None,
                       help="local processes running trials in parallel (default: one a "
                            "core for 4 trials or more; 1: in this process; CPU trials "
                            "compile in parallel and are timed one at a time)")
    where.add_argument("--scheduler", metavar="ADDRESS",
                       help="run trials on a Dask cluster (tcp://host:8786; dist extra)")
    p_gemm.add_argument("--out", metavar="RESULTS.json", help="also write the table as JSON")
    p_gemm.add_argument("--plot", metavar="SPACE.png",
                        help="also plot measured against predicted (plot extra)")
    p_gemm.set_defaults(func=cmd_tune_gemm)
    return parser


def cmd_numba(args: argparse.Namespace) -> int:
    """``warpforge numba [--device D] [--profile] SCRIPT.py [args]``."""
    from .dsl import kernel as dsl_kernel
    from .dsl.devices import set_device
    from .numba_shim import install, uninstall

    if args.device is not None:
        set_device(args.device)
    hook = (lambda result: print(result.report())) if args.profile else None
    if hook is not None:
        dsl_kernel.LAUNCH_HOOKS.append(hook)
    saved = install()
    try:
        return run_script(args.script, args.args)
    finally:
        uninstall(saved)
        if hook is not None:
            dsl_kernel.LAUNCH_HOOKS.remove(hook)


def run_script(script: str, script_args: Sequence[str]) -> int:
    """Run a Python script as ``python SCRIPT args`` would, in this process; its exit
    status."""
    import runpy

    from .kernelfile import KernelFileError

    if not os.path.isfile(script):
        raise KernelFileError(f"no such script: {script}")
    argv, sys.argv = sys.argv, [script, *script_args]
    path = list(sys.path)
    sys.path.insert(0, os.path.dirname(os.path.abspath(script)))
    try:
        runpy.run_path(script, run_name="__main__")
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    finally:
        sys.argv = argv
        sys.path[:] = path
    return 0


def cmd_tune_gemm(args: argparse.Namespace) -> int:
    """``warpforge tune gemm -M -N -K [...]``: the trials as a table, then the winner."""
    import concurrent.futures

    from .dsl.cpu import CPU
    from .libs import gemm
    from .libs.gemm.tuning import label
    from .simulator import Simulator

    if args.workers is not None and args.workers < 1:
        raise CommandError(f"--workers must be at least 1, not {args.workers}")
    device = Simulator(args.arch) if args.device == "sim" else CPU()
    with contextlib.ExitStack() as stack:
        pool = None
        if args.scheduler:
            try:
                import distributed
            except ImportError:
                raise CommandError("--scheduler needs Dask: pip install "
                                   "'warpforge[dist]'") from None
            try:
                client = stack.enter_context(distributed.Client(args.scheduler, timeout=10))
            except OSError as err:
                raise CommandError(f"cannot reach the Dask scheduler at {args.scheduler}: "
                                   f"{err}") from None
            pool = client.get_executor()
        elif args.workers == 1:
            pool = False                    # every trial in this process
        elif args.workers is not None:
            pool = stack.enter_context(concurrent.futures.ProcessPoolExecutor(args.workers))
        trials = gemm.tune(args.M, args.N, args.K, device=device, strategy=args.strategy,
                           budget=args.budget, executor=pool, effort=args.effort)
    unit = "cycles" if args.device == "sim" else "seconds"
    print(f"{'config':<18} {unit:>12} {'compile s':>10}  status")
    for t in trials:
        value = f"{t['objective']:.6g}" if t["objective"] is not None else "-"
        print(f"{label(t['config']):<18} {value:>12} {t['compile_s']:>10.2f}  "
              f"{t['status']}{': ' + t['reason'] if t['reason'] else ''}")
    best = trials.best
    print(f"best: {best['config']} ({best['objective']:.6g} {unit})")
    if args.out:
        with open(args.out, "w") as f:
            f.write(trials.to_json())
    if args.plot:
        try:
            trials.plot(args.plot)
        except ImportError as err:
            raise CommandError(str(err)) from None
        print(f"plot: {args.plot}")
    return 0


def cmd_profile(args: argparse.Namespace) -> int:
    """``warpforge profile [options] SCRIPT.py [args]``."""
    from .profiling import profile_script
    return profile_script(args)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``warpforge`` command with ``argv`` (default: ``sys.argv[1:]``); the exit status."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, or a usage error already reported by argparse
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 2)
    try:
        return args.func(args)
    except WarpforgeError as exc:
        _error(str(exc))
    except KeyboardInterrupt:
        _error("interrupted")
    return 1


def _error(message: str) -> None:
    print(f"{PROG}: error: {message}", file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
