"""``from warpforge import cuda``: Numba's CUDA API over warpforge's devices.

Kernels written for Numba (``@cuda.jit``, ``cuda.grid(1)``, ``cuda.shared.array``,
``cuda.atomic.add``, ``cuda.shfl_down_sync``...) run unmodified on the current device:
the simulator or the CPU (``wf.set_device``, ``WARPFORGE_DEVICE``). See
:mod:`warpforge.dsl.numba_front` for what is provided and how; ``warpforge numba
SCRIPT.py`` runs a whole script written for Numba, serving ``import numba`` itself.
"""

from .dsl.numba_front import (  # noqa: F401 - the public names of this module
    TYPES,
    DeviceNDArray,
    NumbaFeatureError,
    Stream,
    all_sync,
    any_sync,
    atomic,
    ballot_sync,
    blockDim,
    blockIdx,
    boolean,
    brev,
    clz,
    const,
    default_stream,
    detect,
    device_array,
    device_array_like,
    eq_sync,
    ffs,
    float16,
    float32,
    float64,
    fma,
    get_current_device,
    grid,
    gridDim,
    gridsize,
    int8,
    int16,
    int32,
    int64,
    is_available,
    jit,
    laneid,
    legacy_default_stream,
    local,
    managed_array,
    mapped_array,
    per_thread_default_stream,
    pinned_array,
    popc,
    select_device,
    selp,
    shared,
    shfl_down_sync,
    shfl_sync,
    shfl_up_sync,
    shfl_xor_sync,
    stream,
    synchronize,
    syncthreads,
    syncthreads_and,
    syncthreads_count,
    syncthreads_or,
    syncwarp,
    threadfence,
    threadfence_block,
    threadfence_system,
    threadIdx,
    to_device,
    uint8,
    uint16,
    uint32,
    uint64,
    warpsize,
)


def __getattr__(name: str):
    """Numba's names that warpforge does not provide: a clear error naming them."""
    raise NumbaFeatureError(f"numba.cuda.{name} is not supported by warpforge (see "
                            "README.md, 'Numba kernels', for what is)")
