"""Lowering a kernel's structured IR to a linear machine program, and the backend driver.

:class:`Emitter` walks the IR in order, selecting straight-line ops with the selectors
(:mod:`.isel`, :mod:`.arith`, :mod:`.memory`) and linearizing control flow
(``reference/sass-codegen.md`` §4):

- ``if c {return} else {...}`` is ``@P EXIT`` followed by the other arm inline (and the
  mirror case ``@!P EXIT``); a constant condition keeps one arm. Short arms
  (:data:`PREDICATE_LIMIT` instructions together, none guarded already, no control flow,
  barrier or warp op) run predicated: ``@P`` then-arm, ``@!P`` else-arm. Otherwise
  ``BSSY Bn, join``; ``@!P BRA else``; then-arm; ``BRA join``; ``else:`` else-arm;
  ``join: BSYNC Bn``. ``if`` results are virtual registers written by copies at the end of
  each arm.
- ``for`` is a rotated loop (inside ``BSSY``/``BSYNC`` when divergent): the entry test
  branches to the exit; the body ends with the parallel copy of the yielded values into
  the carried registers, the induction step and the test that branches back (a step of
  unknown sign tests both directions).
- ``while`` (inside ``BSSY``/``BSYNC`` when divergent): ``head:`` before-region;
  ``@!cond BRA exit``; do-region; copies; ``BRA head``; ``exit:``. Forwarded values become
  the results (no copy when they are the before-region's own arguments).
- ``return`` is ``EXIT``.

Loop-carried values and ``if`` results live in virtual registers written by copies; at a
back edge, the instruction computing a yielded value writes the carried register directly
when nothing after it still reads that register (copy coalescing), so a typical
accumulator needs no ``MOV``. Sources a parallel copy would overwrite go via temporaries.
Constants, parameters and byte strides the selectors move into registers are computed in
a prologue at the kernel's entry (see :mod:`.isel`).

Convergence barriers go by nesting depth (B0 outermost, at most 16). Only *divergent*
choices get a BSSY/BSYNC pair: :mod:`warpforge.compiler.analysis.uniformity` decides, and an
``if`` condition, ``for`` trip count or ``while`` condition that is the same for every
thread of a warp branches without one (the warp cannot split there). Should the analysis
fail, every choice is treated as divergent (always correct; two extra instructions).

:func:`compile_function` runs the whole backend: emission, merging shared loads into
vector loads (:mod:`.vectorize`), results written into the operand that dies there
(:mod:`.inplace`), loop-invariant ALU instructions moved before their loops
(:mod:`.hoist`), scheduling (:mod:`.schedule`),
register allocation (:mod:`.regalloc`; when the scheduled order needs more registers or
predicates than the budget, the unscheduled order is allocated instead, spilling to local
memory what still does not fit), and control codes
(:mod:`.ctrlcodes`).
"""

from __future__ import annotations

from collections.abc import Mapping

from ...isa.operands import NOT_PT, PT, RZ, BarrierReg, Imm, Label, Pred
from ...isa.program import Program
from ..abi import ArrayFacts, kernel_params
from ..errors import CompilerError
from ..ir import ArrayType, Block, Function, Op, Value
from ..passes.mathlib import expand_math
from .cse import eliminate_repeats
from .ctrlcodes import assign_control_codes
from .dce import remove_dead
from .groups import coalesce_groups
from .hoist import hoist_invariants
from .inplace import update_in_place
from .isel import ArrayDesc, LazyCmp, ParamWord
from .memory import MemorySelector
from .mir import MInst, VPred, VReg, accesses, reg_ids, rename, whole_group
from .regalloc import MAX_REGISTERS, assign
from .schedule import (
    DEFAULT_THREADS,
    kernel_floor,
    occupancy_steps,
    pressure_limit,
    reaim,
    schedule,
    step_of,
)
from .spill import FRAME_ALIGN
from .vectorize import vectorize_loads
from .wide import int64_compare

MAX_BARRIERS = 16
"""Convergence barrier registers B0..B15."""
SPECIAL_OPS = ("thread_idx", "block_idx", "lane_id")


class Emitter(MemorySelector):
    """Linearizes one kernel (see the module docstring); the code is in ``self.code``."""

    def __init__(self, func: Function,
                 arrays: Mapping[str, ArrayFacts] | None = None) -> None:
        super().__init__()
        if not func.is_kernel:
            raise CompilerError(f"@{func.name}: the SASS backend compiles kernels only "
                                "(device functions are inlined first)")
        self.func = func
        self.params, slots = kernel_params(func)
        self.nlabels = 0
        self.depth = 0
        self.uniformity = _uniformity(func)
        for arg, slot in zip(func.params, slots, strict=True):
            if isinstance(arg.type, ArrayType):
                self.values[arg] = ArrayDesc(arg.type, slot,
                                             facts=(arrays or {}).get(slot.name, ArrayFacts()))
            else:
                self.values[arg] = ParamWord(slot.offset, arg.type)

    # --- helpers --------------------------------------------------------------------------

    def new_label(self, hint: str) -> str:
        """A fresh label name."""
        self.nlabels += 1
        return f".L_{hint}{self.nlabels}"

    def place(self, name: str) -> None:
        """Put label ``name`` here."""
        self.code.append(MInst("LABEL", operands=(name,), loc=self.loc))

    def branch(self, target: str, guard=PT) -> None:
        """``@guard BRA target``."""
        self.emit("BRA", guard=guard, target=Label(target))

    def barrier_reg(self) -> BarrierReg:
        """The convergence barrier of the next nesting level."""
        if self.depth >= MAX_BARRIERS:
            raise CompilerError("control flow nested more than 16 levels deep")
        self.depth += 1
        return BarrierReg(self.depth - 1)

    def divergent(self, op: Op) -> bool:
        """True when the threads of a warp may choose differently at ``op``."""
        if self.uniformity is None:
            return True
        from ..analysis.uniformity import Uniformity
        return self.uniformity.decision(op) > Uniformity.WARP

    def open_sync(self, op: Op, target: str) -> BarrierReg | None:
        """``BSSY`` for a divergent ``op`` meeting at ``target``; None when uniform."""
        if not self.divergent(op):
            return None
        bar = self.barrier_reg()
        self.emit("BSSY", b=bar, target=Label(target))
        return bar

    def close_sync(self, bar: BarrierReg | None) -> None:
        """The ``BSYNC`` matching :meth:`open_sync` (at its target label)."""
        if bar is not None:
            self.emit("BSYNC", b=bar)
            self.depth -= 1

    def new_var(self, v: Value) -> VReg | VPred:
        """A fresh register (or predicate, for bool) to hold values of ``v``'s type."""
        t = v.type
        if t.is_bool:
            return self.vpred()
        return self.vreg(2 if t.bits == 64 else 1)

    def copy(self, dst: VReg | VPred, src: object) -> None:
        """``dst = src`` (a lowered value)."""
        if isinstance(dst, VPred):
            p = self.pred(src)
            if isinstance(p, VPred) and p.id == dst.id and not p.neg:
                return
            self.emit("PLOP3", ("LUT",), pu=dst, pv=PT, a=p, b=PT, c=PT,
                      lut=Imm(0xF0), lut2=Imm(0))
            return
        if isinstance(src, VReg) and src.id == dst.id:
            return
        if dst.width == 2:
            r = self.reg(src)
            self.emit("MOV", d=dst.lo(), b=r.lo())
            self.emit("MOV", d=dst.hi(), b=r.hi())
        else:
            self.emit("MOV", d=dst, b=self.rb(src))

    def settle(self, values: list) -> list:
        """``values`` with pending comparisons emitted into predicates."""
        return [self.pred(v) if isinstance(v, LazyCmp) else v for v in values]

    def carried_vars(self, op: Op) -> list:
        """Registers for a ``for``'s carried values: four that the body's ``yield`` takes
        from one ``mma``'s results, in order, are the parts of one quad (an HMMA reads
        and writes the accumulator as a group); the rest fresh registers each."""
        carried = [self.new_var(v) for v in op.results]
        term = op.regions[0].block.ops[-1] if op.regions[0].block.ops else None
        if term is None or term.name != "yield":
            return carried
        yielded = term.operands
        i = 0
        while i + 4 <= len(yielded):
            group = yielded[i:i + 4]
            source = getattr(group[0], "op", None)
            if source is not None and source.name == "mma" and \
                    list(group) == list(source.results):
                quad = self.vreg(4)
                carried[i:i + 4] = [VReg(quad.id, 4, half=k) for k in range(4)]
                i += 4
            else:
                i += 1
        return carried

    def coalesce(self, dsts: list, srcs: list, start: int) -> list:
        """Before a back edge's parallel copy: make the instruction that computes a yielded
        value (in ``self.code[start:]``, the loop body) write its carried register
        directly, when nothing after it reads or writes that register. Returns the
        sources left to copy."""
        srcs = self.coalesce_groups(dsts, self.settle(srcs), start)
        for i, (c, v) in enumerate(zip(dsts, srcs, strict=True)):
            if not (isinstance(c, VReg) and isinstance(v, VReg)) or c.id == v.id \
                    or c.width != v.width or v.neg or v.abs or v.inv or v.half is not None:
                continue
            if any(isinstance(o, (VReg, VPred)) and o.id in (c.id, v.id)
                   for k, o in enumerate(srcs) if k != i):
                continue
            defs = [k for k, inst in enumerate(self.code) if v.id in accesses(inst)[1]]
            if len(defs) != 1 or defs[0] < start or self.code[defs[0]].guard != PT:
                continue
            after = self.code[defs[0] + 1:]
            if any(c.id in accesses(inst)[0] or c.id in accesses(inst)[1] for inst in after):
                continue
            for inst in self.code[defs[0]:]:
                inst.operands = tuple(rename(o, {v.id: c}) for o in inst.operands)
            srcs[i] = c
        return srcs

    def coalesce_groups(self, dsts: list, srcs: list, start: int) -> list:
        """:meth:`coalesce` for a carried quad (:meth:`carried_vars`) whose parts are
        yielded from the parts of one quad written once in the loop body (an HMMA's D):
        that instruction writes the carried quad instead, when nothing after it in the
        body reads or writes the carried quad."""
        srcs = list(srcs)
        for i in range(len(dsts) - 3):
            c, v = whole_group(dsts[i:i + 4]), whole_group(srcs[i:i + 4])
            if c is None or v is None or c.id == v.id:
                continue
            if any(isinstance(o, VReg) and o.id in (c.id, v.id)
                   for k, o in enumerate(srcs) if not i <= k < i + 4):
                continue
            defs = [k for k, inst in enumerate(self.code) if v.id in accesses(inst)[1]]
            if len(defs) != 1 or defs[0] < start or self.code[defs[0]].guard != PT:
                continue
            if any(c.id in reg_ids(inst) for inst in self.code[defs[0] + 1:]):
                continue
            for inst in self.code[defs[0]:]:
                inst.operands = tuple(rename(o, {v.id: c}) for o in inst.operands)
            srcs[i:i + 4] = dsts[i:i + 4]
        return srcs

    def parallel_copy(self, dsts: list, srcs: list) -> None:
        """``dsts[i] = srcs[i]`` all at once (sources that are destinations go via
        temporaries; pending comparisons are emitted first)."""
        srcs = self.settle(srcs)
        ids = {d.id for d in dsts}
        moved = list(srcs)
        for i, (d, s) in enumerate(zip(dsts, srcs, strict=True)):
            if isinstance(s, (VReg, VPred)) and s.id in ids and s.id != d.id:
                tmp = self.vpred() if isinstance(d, VPred) else self.vreg(d.width)
                self.copy(tmp, s)
                moved[i] = tmp
        for d, s in zip(dsts, moved, strict=True):
            self.copy(d, s)

    # --- blocks ---------------------------------------------------------------------------

    def lower_function(self) -> None:
        """Emit the whole kernel."""
        self.loc = self.entry_loc = self.func.loc
        for op in self.func.walk():
            if op.name in SPECIAL_OPS:
                self.select_op(op)
        term = self.lower_block(self.func.block)
        if term is None or term.name != "return":
            self.emit("EXIT")
        self.code = self.prologue + self.code
        self.prologue = []

    def lower_block(self, block: Block) -> Op | None:
        """Emit the ops of ``block``; returns its terminator (not emitted if a yield)."""
        for op in block.ops:
            if self.fusable_mul(op):
                self.fused.add(op)
        for op in block.ops:
            self.loc = op.loc or self.loc
            if op.name in ("if", "for", "while"):
                if getattr(self, "lower_" + op.name)(op) is False:
                    continue  # an if whose arms were predicated: no control flow
                # comparisons are re-emitted after control flow rather than kept live in
                # a predicate across it (there are only seven)
                scope = self.scopes[-1]
                for key in [k for k in scope if isinstance(k, LazyCmp)]:
                    del scope[key]
            elif op.name == "yield":
                return op
            elif op.name == "return":
                self.emit("EXIT")
                return op
            elif op.name == "call":
                raise CompilerError(f"call @{op.attr('callee')}: device functions must be "
                                    "inlined before the SASS backend")
            elif op.name not in SPECIAL_OPS:
                self.select_op(op)
        return None

    # --- if -------------------------------------------------------------------------------

    def lower_if(self, op: Op) -> bool:
        """Lower an ``if``; False when it became predicated instructions with no branch
        (so a comparison computed before it may serve after it too)."""
        cond = self.pred(op.operands[0])
        then_b, else_b = (r.block for r in op.regions)
        if isinstance(cond, Pred):
            arm = else_b if cond.neg else then_b
            self.scopes.append({})
            term = self.lower_block(arm)
            results = [self.new_var(r) for r in op.results]
            if term is not None and term.name == "yield":
                self.parallel_copy(results, [self.values[v] for v in term.operands])
            # (an arm that returns leaves the results unset: what follows is unreachable)
            for r, v in zip(op.results, results, strict=True):
                self.values[r] = v
            self.scopes.pop()
            return True
        if _only_return(then_b) or _only_return(else_b):
            # the threads that return leave here; the others run the other arm inline
            leaving_then = _only_return(then_b)
            self.emit("EXIT", guard=cond if leaving_then else cond.negated())
            results = [self.new_var(r) for r in op.results]
            self.lower_arm(else_b if leaving_then else then_b, results)
            for r, v in zip(op.results, results, strict=True):
                self.values[r] = v
            return True
        results = [self.new_var(r) for r in op.results]
        join = self.new_label("join")
        has_else = not _is_empty(else_b)
        else_label = self.new_label("else") if has_else else join
        bar = self.barrier_reg() if self.divergent(op) else None
        outer, self.code = self.code, []
        term = self.lower_arm(then_b, results)
        then_code, self.code = self.code, []
        if has_else:
            self.lower_arm(else_b, results)
        else_code, self.code = self.code, outer
        predicated = _predicable(then_code, else_code)
        if predicated:
            # short arms: both run, each under its side of the condition
            if bar is not None:
                self.depth -= 1
            for inst in then_code:
                inst.guard = cond
            for inst in else_code:
                inst.guard = cond.negated()
            self.code += then_code + else_code
        else:
            if bar is not None:
                self.emit("BSSY", b=bar, target=Label(join))
            self.branch(else_label, cond.negated())
            self.code += then_code
            if has_else:
                if term is None or term.name != "return":
                    self.branch(join)
                self.place(else_label)
                self.code += else_code
            self.place(join)
            self.close_sync(bar)
        for r, v in zip(op.results, results, strict=True):
            self.values[r] = v
        return not predicated

    def lower_arm(self, block: Block, results: list) -> Op | None:
        """One arm of an ``if``: its ops, then its yielded values copied into ``results``."""
        self.scopes.append({})
        try:
            term = self.lower_block(block)
            if term is not None and term.name == "yield":
                self.parallel_copy(results, [self.values[v] for v in term.operands])
            return term
        finally:
            self.scopes.pop()

    # --- loops ----------------------------------------------------------------------------

    def lower_for(self, op: Op) -> None:
        lb, ub, step, *init = op.operands
        t = lb.type
        if not (t.is_int and t.bits in (32, 64)):
            raise self.fail(op, "loop bounds must be integers")
        body = op.regions[0].block
        iv = self.vreg(2 if t.bits == 64 else 1)
        self.copy(iv, self.values[lb])
        carried = self.carried_vars(op)
        self.parallel_copy(carried, [self.values[v] for v in init])
        exit_label, head = self.new_label("exit"), self.new_label("loop")
        bar = self.open_sync(op, exit_label)
        up = self.step_sign(step)
        self.branch(exit_label, self.loop_test(iv, ub, step, up).negated())
        self.place(head)
        for arg, value in zip(body.args, [iv, *carried], strict=True):
            self.values[arg] = value
        self.scopes.append({})
        start = len(self.code)
        term = self.lower_block(body)
        if term is not None and term.name == "yield":
            self.loc = term.loc or self.loc
            srcs = self.coalesce(carried, [self.values[v] for v in term.operands], start)
            self.parallel_copy(carried, srcs)
            if iv.width == 2:  # a 64-bit counter: add with carry
                s = self.reg(step)
                carry = self.vpred()
                self.emit("IADD3", d=iv.lo(), pu=carry, a=iv.lo(), b=s.lo(), c=RZ)
                self.emit("IADD3", ("X",), d=iv.hi(), a=iv.hi(), b=s.hi(), c=RZ, pp=carry,
                          pq=NOT_PT)
            else:
                self.emit("IADD3", d=iv, a=iv, b=self.rb(step), c=RZ)
            self.branch(head, self.loop_test(iv, ub, step, up))
        self.scopes.pop()
        self.place(exit_label)
        self.close_sync(bar)
        for r, v in zip(op.results, carried, strict=True):
            self.values[r] = v

    def step_sign(self, step: Value) -> VPred | None:
        """For a ``for`` whose step is a signed run-time value, a predicate: step > 0
        (computed once, before the loop); None when the direction is known."""
        from .isel import Konst
        if isinstance(self.values[step], Konst) or not step.type.is_signed:
            return None
        if step.type.bits == 64:
            return int64_compare(self, "gt", self.reg(step), self.reg(Konst(0, step.type)),
                                 True)
        up = self.vpred()
        self.emit("ISETP", ("GT", "AND"), pu=up, pv=PT, a=self.reg(step), b=RZ, pp=PT)
        return up

    def loop_test(self, iv: VReg, ub: Value, step: Value, up: VPred | None) -> VPred:
        """A predicate: ``iv`` has not reached ``ub`` going in ``step``'s direction (``up``
        from :meth:`step_sign`; unsigned steps count up)."""
        from .isel import Konst
        sign = () if ub.type.is_signed else ("U32",)
        k = self.values[step]
        if iv.width == 2:
            bound = self.reg(ub)
            signed = ub.type.is_signed
            if up is None:
                pred = "gt" if isinstance(k, Konst) and int(k.value) < 0 else "lt"
                return int64_compare(self, pred, iv, bound, signed)
            rising = int64_compare(self, "lt", iv, bound, signed)
            falling = int64_compare(self, "gt", iv, bound, signed)
            both = self.vpred()  # up ? rising : falling
            self.emit("PLOP3", ("LUT",), pu=both, pv=PT, a=up, b=rising, c=falling,
                      lut=Imm(0xCA), lut2=Imm(0))
            return both
        p = self.vpred()
        if up is None:
            cmp = "GT" if isinstance(k, Konst) and int(k.value) < 0 else "LT"
            self.emit("ISETP", (cmp, *sign, "AND"), pu=p, pv=PT, a=iv, b=self.rb(ub), pp=PT)
            return p
        down = self.vpred()
        self.emit("ISETP", ("LT", *sign, "AND"), pu=p, pv=PT, a=iv, b=self.rb(ub), pp=up)
        self.emit("ISETP", ("GT", *sign, "AND"), pu=down, pv=PT, a=iv, b=self.rb(ub),
                  pp=up.negated())
        both = self.vpred()
        self.emit("PLOP3", ("LUT",), pu=both, pv=PT, a=p, b=down, c=PT, lut=Imm(0xFC),
                  lut2=Imm(0))
        return both

    def lower_while(self, op: Op) -> None:
        before, do = (r.block for r in op.regions)
        carried = [self.new_var(v) for v in op.operands]
        self.parallel_copy(carried, [self.values[v] for v in op.operands])
        exit_label, head = self.new_label("exit"), self.new_label("loop")
        bar = self.open_sync(op, exit_label)
        self.place(head)
        for arg, value in zip(before.args, carried, strict=True):
            self.values[arg] = value
        self.scopes.append({})
        term = self.lower_block(before)
        cond, *fwd = term.operands
        p = self.pred(cond)
        if all(v is a for v, a in zip(fwd, before.args, strict=True)):
            results = carried
        else:
            results = [self.new_var(v) for v in op.results]
            self.parallel_copy(results, [self.values[v] for v in fwd])
        self.branch(exit_label, _negate(p))
        for arg, value in zip(do.args, results, strict=True):
            self.values[arg] = value
        self.scopes.append({})
        start = len(self.code)
        term = self.lower_block(do)
        if term is not None and term.name == "yield":
            self.loc = term.loc or self.loc
            srcs = self.coalesce(carried, [self.values[v] for v in term.operands], start)
            self.parallel_copy(carried, srcs)
            self.branch(head)
        self.scopes.pop()
        self.scopes.pop()
        self.place(exit_label)
        self.close_sync(bar)
        for r, v in zip(op.results, results, strict=True):
            self.values[r] = v


def _negate(p: VPred | Pred) -> VPred | Pred:
    """The complement of a virtual or fixed predicate (``!PT`` for ``PT``)."""
    return p.negated() if isinstance(p, VPred) else Pred(p.index, not p.neg)


def _uniformity(func: Function):
    """The uniformity analysis of ``func``, or None if it cannot analyze it."""
    try:
        from ..analysis.uniformity import analyze_uniformity
        return analyze_uniformity(func)
    except Exception:  # any failure just means "assume divergent"
        return None


PREDICATE_LIMIT = 8
"""Arms of at most this many instructions (both together) run predicated instead of
branched around (sass-codegen.md §4: "about 8 or fewer")."""
UNPREDICABLE = frozenset({"LABEL", "BRA", "EXIT", "BSSY", "BSYNC", "BAR", "SHFL", "VOTE"})
"""Control flow, barriers and warp-collective ops never run under an arm's guard."""


def _predicable(*arms: list[MInst]) -> bool:
    insts = [inst for arm in arms for inst in arm]
    return len(insts) <= PREDICATE_LIMIT and all(
        inst.guard == PT and inst.opcode not in UNPREDICABLE for inst in insts)


def _is_empty(block: Block) -> bool:
    return all(op.name == "yield" and not op.operands for op in block.ops)


def _only_return(block: Block) -> bool:
    return len(block.ops) == 1 and block.ops[0].name == "return"


def lower(func: Function, arrays: Mapping[str, ArrayFacts] | None = None) -> Emitter:
    """Emit ``func``'s machine code on virtual registers (no scheduling or allocation);
    ``arrays`` names what launches guarantee of array parameters (default: nothing)."""
    em = Emitter(func, arrays)
    em.lower_function()
    return em


def schedule_and_assign(code: list[MInst], steps: tuple[int, ...], max_registers: int):
    """Schedule ``code`` under the pressure limit of the occupancy ``steps`` and allocate
    registers; schedule once more with the room :func:`~.schedule.reaim` finds when the
    allocation landed under a higher step than aimed (kept if it stays under that step).
    """
    limit = pressure_limit(kernel_floor(code), steps)
    try:
        alloc = assign(schedule(code, limit), max_registers=max_registers)
    except CompilerError:
        # Scheduling lengthened live ranges past the budget: keep the source order, and
        # spill what still does not fit.
        return assign(code, max_registers=max_registers, spill=True)
    higher = reaim(alloc.registers, limit, steps)
    if higher is None:
        return alloc
    try:
        again = assign(schedule(code, higher), max_registers=max_registers)
    except CompilerError:
        return alloc
    return again if again.registers <= step_of(alloc.registers, steps) else alloc


def compile_function(func: Function, *, max_registers: int = MAX_REGISTERS,
                     arrays: Mapping[str, ArrayFacts] | None = None) -> Program:
    """Compile kernel ``func`` to an ``isa.Program``: instruction selection, scheduling,
    register allocation within ``max_registers`` (the count as ptxas reports it; values
    that do not fit are spilled to local memory), control codes; ``.loc`` from the IR
    ops' locations. ``arrays`` maps array parameter names to what every launch
    guarantees of them (:class:`~warpforge.compiler.abi.ArrayFacts`; default: nothing)."""
    expand_math(func)
    em = lower(func, arrays)
    code = eliminate_repeats(remove_dead(em.code))
    code = coalesce_groups(vectorize_loads(code, em.base_align))
    code = hoist_invariants(update_in_place(code))
    threads = func.attrs.get("max_threads", DEFAULT_THREADS)
    alloc = schedule_and_assign(code, occupancy_steps(threads), max_registers)
    local_bytes = em.local_bytes
    if alloc.frame_bytes:
        # the spill frame sits at the top of local memory, above the kernel's arrays
        local_bytes = -(-local_bytes // FRAME_ALIGN) * FRAME_ALIGN + alloc.frame_bytes
    program = Program(func.name, em.params, tuple(alloc.instructions), tuple(alloc.labels),
                      alloc.registers, em.shared_bytes, local_bytes)
    return assign_control_codes(program)
