"""Analyses of the IR that both backends (and the frontend's checks) share.

- :mod:`.uniformity`: is a value the same for every thread of a CTA, of a warp, or neither?
- :mod:`.affinity`: is an index value ``base + thread_idx.x * stride`` with a warp-uniform
  base and a known stride?
- :mod:`.liveness`: which values are live around each op.
- :mod:`.effects`: which array parameters a kernel may write.

Analyses never change the IR; each returns an object answering queries about it.
"""

from .affinity import VARYING_AFFINITY, Affinity, AffinityInfo, analyze_affinity
from .effects import written_parameters
from .liveness import LivenessInfo, analyze_liveness
from .uniformity import Uniformity, UniformityInfo, analyze_uniformity

__all__ = [
    "VARYING_AFFINITY",
    "Affinity",
    "AffinityInfo",
    "LivenessInfo",
    "Uniformity",
    "UniformityInfo",
    "analyze_affinity",
    "analyze_liveness",
    "analyze_uniformity",
    "written_parameters",
]
