"""Passes over the IR and the pipeline that runs them.

A pass is a function ``Function -> Function`` (it may change the function in place and
return it, or return None for the same effect); its name is its ``pass_name`` attribute or
its ``__name__``. :func:`run_pipeline` runs passes in order, verifies the IR after each
(so the pass that broke it is named), and hands each stage's text to a ``dump`` callback
(``WARPFORGE_DUMP`` writes them to files). One pass per module; :data:`PASSES` lists them
by name.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from ..errors import IRError
from ..ir.function import Function, Module
from ..ir.printer import print_function
from ..ir.verifier import verify_function
from .dce import dce
from .fold import fold

Pass = Callable[[Function], "Function | None"]
"""A pass: takes a function, returns it (or a replacement), or None if changed in place."""
Dump = Callable[[str, str], None]
"""``dump(stage_name, printed_ir)``, called for the input and after each pass."""

PASSES: dict[str, Pass] = {"fold": fold, "dce": dce}
"""Every pass by name."""


def pass_name(p: Pass) -> str:
    """The name a pass goes by in dumps and errors."""
    return getattr(p, "pass_name", None) or getattr(p, "__name__", type(p).__name__)


def run_pipeline(func: Function, passes: Sequence[Pass], verify: bool = True,
                 dump: Dump | None = None, module: Module | None = None,
                 locs: bool = False) -> Function:
    """Run ``passes`` on ``func`` in order and return the result.

    With ``verify``, the input and the output of every pass are verified (calls checked
    against ``module`` if given); a failure raises :class:`IRError` naming the pass.
    ``dump`` gets ``("input", text)`` and then ``(pass name, text)`` after each pass
    (``locs`` includes source locations in the text).
    """
    if verify:
        _verify(func, module, "the pipeline's input")
    if dump is not None:
        dump("input", print_function(func, locs))
    for p in passes:
        name = pass_name(p)
        result = p(func)
        func = result if result is not None else func
        if verify:
            _verify(func, module, f"pass {name!r}")
        if dump is not None:
            dump(name, print_function(func, locs))
    return func


def _verify(func: Function, module: Module | None, stage: str) -> None:
    try:
        verify_function(func, module)
    except IRError as err:
        raise IRError(f"after {stage}: {err.message}", err.loc, err.op) from None


__all__ = ["PASSES", "Dump", "Pass", "dce", "fold", "pass_name", "run_pipeline"]
