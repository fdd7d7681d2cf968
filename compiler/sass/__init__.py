"""The SASS backend: lowering to :mod:`warpforge.isa` programs.

So far its last step, :func:`assign_control_codes` (stall counts, yield, scoreboards and
wait masks computed for any program).
"""

from .ctrlcodes import assign_control_codes

__all__ = ["assign_control_codes"]
