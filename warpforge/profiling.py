"""``warpforge profile``: run a script with the timed simulator as the device and report
each launch, as ``ncu python script.py`` does.

Every launch of a ``@wf.kernel`` (or of a Numba-style kernel) on the simulator passes
through :data:`~warpforge.dsl.kernel.LAUNCH_HOOKS`; the hook here prints the launch's
report (or its per-source-line profile as CSV) and writes its trace when asked. A launch
the script sends to another device explicitly is not reported.
"""

from __future__ import annotations

import argparse
import csv
import io
import os
import sys

from .dsl import kernel as dsl_kernel
from .dsl.devices import get_device, set_device
from .simulator import Simulator


def trace_path(base: str, n: int) -> str:
    """Where launch ``n`` (0-based) writes its trace: ``base``, then ``stem-2.json``..."""
    if n == 0:
        return base
    stem, ext = os.path.splitext(base)
    return f"{stem}-{n + 1}{ext or '.json'}"


def profile_script(args: argparse.Namespace) -> int:
    """Run ``args.script`` under the profiler; the script's exit status."""
    from .cli import run_script

    sim = Simulator(args.arch, scheduler=args.scheduler, sample=None if args.full else "auto")
    reported: list = []
    header = [True]

    def hook(result) -> None:
        if result.timing is None:
            return
        if args.kernel and result.kernel != args.kernel:
            return
        n = len(reported)
        reported.append(result)
        if args.csv:
            text = _csv(result, n, header[0])
            header[0] = False
            sys.stdout.write(text)
        else:
            print(f"==PROF== launch {n + 1}: {result.kernel}")
            print(result.report())
        if args.trace:
            path = trace_path(args.trace, n)
            result.save_trace(path)
            print(f"==PROF== trace written to {path}", file=sys.stderr)

    previous = get_device()
    set_device(sim)
    dsl_kernel.LAUNCH_HOOKS.append(hook)
    try:
        status = run_script(args.script, args.args)
    finally:
        dsl_kernel.LAUNCH_HOOKS.remove(hook)
        set_device(previous)
    if not reported:
        what = f"of kernel '{args.kernel}' " if args.kernel else ""
        print(f"==PROF== no launches {what}ran on the simulator", file=sys.stderr)
    return status


def _csv(result, n: int, header: bool) -> str:
    rows = result.profile.lines
    out = io.StringIO()
    fields = ["launch", "kernel", *(k for k in rows[0] if k != "source"), "source"] \
        if rows else ["launch", "kernel"]
    writer = csv.DictWriter(out, fieldnames=fields)
    if header:
        writer.writeheader()
    for row in rows:
        writer.writerow({"launch": n + 1, "kernel": result.kernel, **row})
    return out.getvalue()
