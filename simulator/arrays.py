"""Arrays kept resident in a device's global memory across launches."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ..isa.errors import UsageError
from .errors import SimulatorError

if TYPE_CHECKING:
    from .memory import Allocation


class DeviceArray:
    """An n-d array in a device's global memory (row-major, contiguous).

    Passing it to a launch passes its address ``ptr`` and copies nothing; read it back with
    :meth:`copy_to_host`. Made by ``device.to_device(array)``.
    """

    def __init__(self, device, allocation: Allocation, shape: tuple[int, ...],
                 dtype: np.dtype) -> None:
        self.device = device
        self._alloc: Allocation | None = allocation
        self.shape = tuple(shape)
        self.dtype = np.dtype(dtype)

    @property
    def ptr(self) -> int:
        """Device address of the first element."""
        return self._live().ptr

    @property
    def ndim(self) -> int:
        """Number of dimensions."""
        return len(self.shape)

    @property
    def nbytes(self) -> int:
        """Size in bytes."""
        return int(np.prod(self.shape, dtype=np.int64)) * self.dtype.itemsize

    @property
    def size(self) -> int:
        """Number of elements."""
        return int(np.prod(self.shape, dtype=np.int64))

    @property
    def freed(self) -> bool:
        """True once :meth:`free` was called."""
        return self._alloc is None

    def _live(self) -> Allocation:
        if self._alloc is None:
            raise SimulatorError("this DeviceArray was freed")
        return self._alloc

    def copy_to_host(self) -> np.ndarray:
        """A new numpy array with the device contents."""
        buf = self._live().buf[: self.nbytes]
        return buf.view(self.dtype).reshape(self.shape).copy()

    def copy_from_host(self, array: np.ndarray) -> None:
        """Overwrite the device contents with ``array`` (same shape; cast to this dtype
        when the values fit, as numpy's ``same_kind`` casting allows)."""
        array = np.asarray(array)
        if array.shape != self.shape:
            raise UsageError(f"shape {array.shape} does not match the device array's "
                             f"{self.shape}")
        dst = self._live().buf[: self.nbytes].view(self.dtype).reshape(self.shape)
        np.copyto(dst, array, casting="same_kind")

    def free(self) -> None:
        """Release the memory; later use of this array is an error."""
        if self._alloc is not None:
            lock = getattr(self.device, "_lock", None)
            if lock is None:
                self.device.memory.free(self._alloc.ptr)
            else:
                with lock:
                    self.device.memory.free(self._alloc.ptr)
            self._alloc = None

    def __repr__(self) -> str:
        where = "freed" if self._alloc is None else f"ptr=0x{self._alloc.ptr:x}"
        return f"DeviceArray(shape={self.shape}, dtype={self.dtype}, {where})"
