"""The SASS backend: lowering kernels in the compiler's IR to :mod:`warpforge.isa` programs.

:func:`compile_function` runs instruction selection and control-flow linearization
(:mod:`.emit`, with :mod:`.isel`, :mod:`.arith`, :mod:`.divide`, :mod:`.memory` on the
machine IR of :mod:`.mir`), list scheduling (:mod:`.schedule`), register allocation
(:mod:`.regalloc`, spilling to local memory with :mod:`.spill`) and, last,
:func:`assign_control_codes` (stall counts, yield, scoreboards and wait masks computed for
any program).
"""

from .ctrlcodes import assign_control_codes
from .emit import compile_function

__all__ = ["assign_control_codes", "compile_function"]
