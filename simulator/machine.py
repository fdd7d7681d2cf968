"""The state of one wave of resident CTAs: registers, predicates, memories, thread geometry.

All threads of the wave live in one set of numpy arrays, thread ``t`` being column ``t``:
CTA slot ``t // P`` and thread ``t % P`` of that CTA, where ``P`` is the block's thread count
rounded up to whole warps (the padding threads exist but start exited). Thread numbering
within a CTA is CUDA's (x fastest, then y, then z); warps are consecutive groups of 32.

A :class:`Machine` is built once per launch and wave size; the handlers decoded for it bind
its arrays, and :meth:`Machine.start_wave` reloads it for each wave of CTAs.
"""

from __future__ import annotations

import numpy as np

from ..isa.abi import CONST_BANK_BYTES
from ..isa.printer import format_instruction
from ..isa.program import Instruction, Program
from .errors import KernelFault, MemoryFault
from .memory import AccessFault, GlobalMemory, WindowMemory

WARP = 32


def warp_any(mask: np.ndarray) -> np.ndarray:
    """Per warp, whether any of its 32 threads is set in a bool array over the wave.

    A warp's 32 bools are 4 uint64 words; OR-ing the words is much faster than
    ``mask.reshape(-1, 32).any(axis=1)``.
    """
    words = np.ascontiguousarray(mask).view(np.uint64).reshape(-1, 4)
    return (words[:, 0] | words[:, 1] | words[:, 2] | words[:, 3]) != 0


def instruction_text(inst: Instruction) -> str:
    """The instruction as the printer writes it (without the control code)."""
    return format_instruction(inst)


class Machine:
    """Registers, predicates, memories and geometry of a wave of ``ctas`` CTAs."""

    def __init__(self, program: Program, grid: tuple[int, int, int],
                 block: tuple[int, int, int], ctas: int, bank0: np.ndarray,
                 memory: GlobalMemory, num_sms: int) -> None:
        self.program = program
        self.grid = grid
        self.block = block
        self.num_sms = num_sms
        bx, by, bz = block
        threads = bx * by * bz
        self.block_threads = threads
        self.P = P = -(-threads // WARP) * WARP
        self.C = ctas
        self.T = T = ctas * P
        self.W = T // WARP
        self.nregs = max(program.registers, 1)
        self.regs = np.zeros((self.nregs, T), np.uint32)
        self.rows = list(self.regs)
        self.preds = np.zeros((8, T), bool)
        self.preds[7] = True
        self.prow = list(self.preds)
        self.tids = np.arange(T, dtype=np.int64)
        one_cta = np.arange(P, dtype=np.int64)  # per-CTA patterns, tiled over the wave

        def tiled(values: np.ndarray, dtype=np.uint32) -> np.ndarray:
            return np.tile(values.astype(dtype), ctas)

        self.local = tiled(one_cta, np.int64)
        self.exists = tiled(one_cta < threads, bool)
        self.cta_slot = np.repeat(np.arange(ctas, dtype=np.int64), P)
        lane = one_cta % WARP
        self.lane = tiled(lane)
        self.warp_base = self.tids - self.lane
        one = np.uint64(1)
        lt = ((one << lane.astype(np.uint64)) - one).astype(np.uint32)
        eq = (one << lane.astype(np.uint64)).astype(np.uint32)
        self.special: dict[str, np.ndarray] = {
            "SR_TID.X": tiled(one_cta % bx),
            "SR_TID.Y": tiled(one_cta // bx % by),
            "SR_TID.Z": tiled(one_cta // (bx * by)),
            "SR_LANEID": self.lane,
            "SR_WARPID": tiled(one_cta // WARP),
            "SR_EQMASK": tiled(eq), "SR_LTMASK": tiled(lt), "SR_LEMASK": tiled(lt | eq),
            "SR_GTMASK": tiled(~(lt | eq)), "SR_GEMASK": tiled(~lt),
        }
        for name in ("SR_CTAID.X", "SR_CTAID.Y", "SR_CTAID.Z", "SR_SMID"):
            self.special[name] = np.zeros(T, np.uint32)
        self.ctaid = np.zeros((ctas, 3), np.int64)
        self.bank0 = bank0
        self.const_cells: list = []
        """Constant operands decoded from bank 0: ``(cell, operand, width, pc)``."""
        self._banks: dict[int, np.ndarray] = {0: bank0}
        self.memory = memory
        self.shared = None
        if program.shared_bytes:
            self.shared = WindowMemory(ctas, program.shared_bytes, None, "shared",
                                       "the CTA has")
            self.shared.bases = self.cta_slot * self.shared.stride
        self.localmem = None
        if program.local_bytes:
            self.localmem = WindowMemory(T, program.local_bytes, None, "local",
                                         "each thread has")
            self.localmem.bases = self.tids * self.localmem.stride
        self.clock = 0
        self.recorder = None
        self.sanitizer = None
        """racecheck/initcheck state (:class:`~.sanitize.Sanitizer`), when on."""
        """The timing model's :class:`~.timing.record.Recorder` while a timed wave runs."""

    def reload(self, bank0: np.ndarray) -> None:
        """Take a new launch's bank 0 (same program, geometry and memory): copied into
        the machine's own, so that every decoded view of it stays valid, and every decoded
        constant operand read again."""
        from .decode import const_value
        np.copyto(self.bank0, bank0)
        for cell, op, width, pc in self.const_cells:
            cell[0] = const_value(self, op, width, pc)

    def bank(self, index: int) -> np.ndarray:
        """Constant bank ``index`` as bytes (bank 0 holds the launch; others are zero)."""
        if index not in self._banks:
            self._banks[index] = np.zeros(CONST_BANK_BYTES, np.uint8)
        return self._banks[index]

    def start_wave(self, first_cta: int, count: int) -> None:
        """Load CTAs ``first_cta .. first_cta+count-1`` (linear ids, x fastest) into the
        first ``count`` slots; the other slots' threads start exited."""
        gx, gy, _ = self.grid
        ids = np.arange(first_cta, first_cta + count, dtype=np.int64)
        self.ctaid[:] = 0
        self.ctaid[:count, 0] = ids % gx
        self.ctaid[:count, 1] = ids // gx % gy
        self.ctaid[:count, 2] = ids // (gx * gy)
        for axis, name in enumerate(("SR_CTAID.X", "SR_CTAID.Y", "SR_CTAID.Z")):
            self.special[name].reshape(self.C, self.P)[...] = self.ctaid[:, axis, None]
        sm = np.zeros(self.C, np.int64)
        sm[:count] = ids % self.num_sms  # CTAs go round-robin to SMs
        self.special["SR_SMID"].reshape(self.C, self.P)[...] = sm[:, None]
        self.regs.fill(0)
        self.preds[:7] = False
        if self.shared is not None:
            self.shared.clear()
        if self.localmem is not None:
            self.localmem.clear()
        self.clock = 0
        self.loaded = count

    def live_at_start(self) -> np.ndarray:
        """Threads that exist in this wave (not padding, not an empty CTA slot)."""
        return self.exists & (self.cta_slot < self.loaded)

    # --- locating faults --------------------------------------------------------------

    def where(self, t: int) -> tuple[tuple[int, int, int], tuple[int, int, int]]:
        """(threadIdx, blockIdx) of thread column ``t``."""
        bx, by, _ = self.block
        local = int(t) % self.P
        thread = (local % bx, local // bx % by, local // (bx * by))
        block = tuple(int(v) for v in self.ctaid[int(t) // self.P])
        return thread, block  # type: ignore[return-value]

    def text(self, pc: int) -> str:
        """Instruction ``pc`` as text, for messages."""
        return instruction_text(self.program.instructions[pc])

    def location(self, pc: int, t: int) -> dict:
        """Keyword arguments locating a fault at instruction ``pc`` in thread ``t``."""
        thread, block = self.where(t)
        inst = self.program.instructions[pc]
        return dict(kernel=self.program.name, pc=pc, instruction=self.text(pc),
                    thread=thread, block=block, loc=inst.loc)

    def fault(self, cls: type[KernelFault], what: str, pc: int, t: int,
              detail: str = "") -> KernelFault:
        """A located fault of class ``cls``."""
        return cls(what, detail=detail, **self.location(pc, t))

    def memory_fault(self, err: AccessFault, tid: np.ndarray | None, pc: int, space: str,
                     access: str, size: int) -> MemoryFault:
        """The MemoryFault for an access fault at ``err.position`` among threads ``tid``."""
        t = err.position if tid is None else int(tid[err.position])
        return MemoryFault(err.reason, space=space, access=access, size=size,
                           address=err.address, **self.location(pc, t))
