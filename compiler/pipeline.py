"""The optimization pipeline: the named list of passes every kernel goes through between
the frontend and a backend.

:data:`PIPELINE` is the order, for reasons:

1. ``inline`` device functions first, so every later pass sees one function;
2. ``unroll`` ``static_range`` loops (it evaluates constant bounds itself), then
   ``promote`` local arrays whose indices the unrolling made constant;
3. ``fold`` and ``cse`` clean what unrolling and inlining copied; ``licm`` hoists what is
   now invariant; ``strength`` reduces index arithmetic (it adds code before loops);
4. ``fold``, ``cse`` and ``dce`` tidy up last.

:func:`optimize` runs it with :func:`~warpforge.compiler.passes.run_pipeline`, verifying
the IR after each pass and calling ``dump(pass_name, text)`` after each.
"""

from __future__ import annotations

from .ir.function import Function, Module
from .passes import Dump, Pass, run_pipeline
from .passes.cse import cse
from .passes.dce import dce
from .passes.fold import fold
from .passes.inline import make_inline
from .passes.licm import licm
from .passes.promote import promote
from .passes.strength import strength
from .passes.unroll import unroll

PIPELINE: tuple[str, ...] = ("inline", "unroll", "promote", "fold", "cse", "licm",
                             "strength", "fold", "cse", "dce")
"""The passes :func:`optimize` runs, in order."""


def passes(module: Module | None = None) -> list[Pass]:
    """The pipeline's passes (``inline`` bound to ``module``, the kernel's callees)."""
    by_name: dict[str, Pass] = {
        "inline": make_inline(module), "unroll": unroll, "promote": promote, "fold": fold,
        "cse": cse, "licm": licm, "strength": strength, "dce": dce,
    }
    return [by_name[name] for name in PIPELINE]


def optimize(func: Function, dump: Dump | None = None,
             module: Module | None = None) -> Function:
    """Run the pipeline on ``func`` and return it (changed in place).

    ``module`` holds the device functions ``func`` calls (the IR keeps callees in a
    :class:`~warpforge.compiler.ir.Module`); ``dump(name, text)`` is called with the input
    and after each pass.
    """
    return run_pipeline(func, passes(module), dump=dump, module=module)
