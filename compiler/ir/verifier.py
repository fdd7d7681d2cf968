"""The verifier: runs between passes and says exactly what is wrong, and where.

It checks, for a function:

- structure: every op sits in the block it claims, once; every region has one block whose
  last op, and only that one, is a terminator (``yield`` in if/for/while regions, ``return``
  anywhere); the function body does not end with ``yield``;
- SSA and dominance under region nesting: every operand was defined earlier in its own
  block or an enclosing one (a value defined in a region is not visible outside it);
  use lists match operands, and no op outside the function uses its values;
- each op against the registry: operand, result and region counts, attributes, and the
  type rule (result types included);
- structured ops: ``if`` branches take no arguments and yield the result types; a ``for``
  body takes the induction variable and the carried values and yields the carried types;
  a ``while`` condition takes the carried values and yields ``bool`` then the carried
  types, its body takes and yields the carried types; ``return`` gives the function's
  result types; ``call`` matches its callee when the module is known.

Errors are :class:`IRError` naming the function, the problem and the op's printed text,
with the op's source location and the op itself (``err.op``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NoReturn

from ..errors import IRError
from .core import Block, Op, OpResult, Use, Value, check_attr
from .function import Function, Module
from .ops import check_attrs
from .printer import op_header
from .typerules import describe
from .types import ArrayType, ScalarType, Type, bool_


def verify(target: Function | Module, module: Module | None = None) -> None:
    """Verify a function (calls checked against ``module`` if given) or a whole module."""
    if isinstance(target, Module):
        for func in target:
            verify_function(func, target)
    else:
        verify_function(target, module)


def verify_function(func: Function, module: Module | None = None) -> None:
    """Raise :class:`IRError` at the first problem in ``func``."""
    _Verifier(func, module).run()


def _count(low: int, high: int | None) -> str:
    if low == high:
        return str(low)
    return f"at least {low}" if high is None else f"{low} to {high}"


class _Verifier:
    def __init__(self, func: Function, module: Module | None) -> None:
        self.func = func
        self.module = module
        self.seen: set[Op] = set()
        self.values: list[Value] = []

    def fail(self, op: Op | None, problem: str) -> NoReturn:
        text = ""
        if op is not None:
            try:
                text = "\n    " + op_header(op)
            except Exception:  # printing broken IR must not hide the real problem
                text = f"\n    ({op.name})"
        raise IRError(f"@{self.func.name}: {problem}{text}",
                      op.loc if op is not None else self.func.loc, op)

    def run(self) -> None:
        func = self.func
        for t in func.result_types:
            if not isinstance(t, ScalarType):
                self.fail(None, f"function results must be scalars, not {t}")
        for arg in func.params:
            if not isinstance(arg.type, (ScalarType, ArrayType)):
                self.fail(None, f"parameter {arg.index} has no IR type ({arg.type!r})")
        if func.body.parent is not func or func.block.parent is not func.body:
            self.fail(None, "the body's parent links are wrong")
        for name, value in func.attrs.items():
            try:
                check_attr(value)
            except IRError as err:
                self.fail(None, f"function attribute {name!r}: {err.message}")
        self.block(func.block, None, set())
        self.check_uses()

    # --- blocks ---------------------------------------------------------------------------

    def block(self, block: Block, owner: Op | None, visible: set[Value]) -> None:
        where = f"{owner.name} region" if owner is not None else "function body"
        added: list[Value] = []
        for index, arg in enumerate(block.args):
            if arg.block is not block or arg.index != index:
                self.fail(owner, f"argument {index} of a {where} has wrong owner links")
            added.append(arg)
        visible.update(block.args)
        if not block.ops:
            self.fail(owner, f"a {where} is empty: it must end with yield or return")
        last = len(block.ops) - 1
        for index, op in enumerate(block.ops):
            if op.parent is not block:
                self.fail(op, "op is listed in a block it does not belong to")
            if op in self.seen:
                self.fail(op, "op appears twice")
            self.seen.add(op)
            self.op(op, visible)
            if op.info.terminator and index != last:
                self.fail(block.ops[index + 1],
                          f"op after {op.name}: {op.name} must be the last op of its block")
            visible.update(op.results)
            added.extend(op.results)
        term = block.ops[last]
        if not term.info.terminator:
            self.fail(term, f"the {where} does not end with yield or return")
        if term.name == "yield" and owner is None:
            self.fail(term, "yield in the function body (a function ends with return)")
        visible.difference_update(added)
        self.values.extend(added)

    # --- ops ------------------------------------------------------------------------------

    def op(self, op: Op, visible: set[Value]) -> None:
        info = op.info
        for index, value in enumerate(op.operands):
            if value not in visible:
                self.fail(op, f"operand {index} {self.undefined(value)}")
            if Use(op, index) not in value._uses:
                self.fail(op, f"operand {index} does not list this op among its uses")
        low, high = info.operands
        if not low <= len(op.operands) <= (high if high is not None else len(op.operands)):
            self.fail(op, f"{op.name} takes {_count(low, high)} operands, not "
                          f"{len(op.operands)}")
        low, high = info.results
        if not low <= len(op.results) <= (high if high is not None else len(op.results)):
            self.fail(op, f"{op.name} has {_count(low, high)} results, not {len(op.results)}")
        for index, result in enumerate(op.results):
            if result.op is not op or result.index != index:
                self.fail(op, f"result {index} has wrong owner links")
        if len(op.regions) != len(info.regions):
            self.fail(op, f"{op.name} has {len(info.regions)} regions, not {len(op.regions)}")
        for region in op.regions:
            if region.parent is not op or region.block.parent is not region:
                self.fail(op, "a region's parent links are wrong")
        try:
            check_attrs(info, op.attrs)
            expected = info.rule(op.operand_types, op.attrs, op.result_types)
        except IRError as err:
            self.fail(op, err.message)
        if tuple(expected) != op.result_types:
            self.fail(op, f"results are ({describe(op.result_types)}) but must be "
                          f"({describe(expected)})")
        check = getattr(self, f"op_{op.name}", None)
        if check is not None:
            check(op)
        for region in op.regions:
            self.block(region.block, op, visible)

    def undefined(self, value: Value) -> str:
        """Why ``value`` is not visible here, in words."""
        owner = value.op if isinstance(value, OpResult) else None
        if owner is not None and owner.parent is None:
            return "comes from an op that is in no block (erased or detached)"
        if owner is not None and owner in self.seen:
            return "is defined inside a region and used outside it"
        return "is used before its definition (or is not defined in this function)"

    def args(self, op: Op, index: int, expected: Sequence[Type], what: str) -> None:
        got = op.regions[index].block.arg_types
        if got != tuple(expected):
            self.fail(op, f"the {what} takes ({describe(got)}) but must take "
                          f"({describe(expected)})")

    def yields(self, op: Op, index: int, expected: Sequence[Type], what: str) -> None:
        block = op.regions[index].block
        term = block.ops[-1] if block.ops else None
        if term is not None and term.name == "yield" and term.operand_types != tuple(expected):
            self.fail(term, f"the {what} yields ({describe(term.operand_types)}) but must "
                            f"yield ({describe(expected)})")

    def op_if(self, op: Op) -> None:
        for index, name in enumerate(("then", "else")):
            self.args(op, index, (), f"{name} region")
            self.yields(op, index, op.result_types, f"{name} region")

    def op_for(self, op: Op) -> None:
        carried = op.operand_types[3:]
        self.args(op, 0, (op.operand_types[0], *carried), "for body")
        self.yields(op, 0, carried, "for body")

    def op_while(self, op: Op) -> None:
        carried = op.operand_types
        self.args(op, 0, carried, "while condition region")
        self.yields(op, 0, (bool_, *carried), "while condition region")
        self.args(op, 1, carried, "while body")
        self.yields(op, 1, carried, "while body")

    def op_return(self, op: Op) -> None:
        if op.operand_types != self.func.result_types:
            self.fail(op, f"return gives ({describe(op.operand_types)}) but @{self.func.name} "
                          f"returns ({describe(self.func.result_types)})")

    def op_call(self, op: Op) -> None:
        if self.module is None:
            return
        name = op.attr("callee")
        callee = self.module.get(str(name))
        if callee is None:
            self.fail(op, f"call to unknown function @{name}")
        if callee.is_kernel:
            self.fail(op, f"call to kernel @{name} (only device functions can be called)")
        if op.operand_types != callee.param_types:
            self.fail(op, f"@{name} takes ({describe(callee.param_types)}), not "
                          f"({describe(op.operand_types)})")
        if op.result_types != callee.result_types:
            self.fail(op, f"@{name} returns ({describe(callee.result_types)}), not "
                          f"({describe(op.result_types)})")

    # --- use lists ------------------------------------------------------------------------

    def check_uses(self) -> None:
        for value in self.values:
            for use in value._uses:
                if use.op not in self.seen:
                    self.fail(None, f"a {value.type} value is used by a {use.op.name} op "
                                    "outside the function (erase ops with Op.erase)")
                operands = use.op._operands
                if use.index >= len(operands) or operands[use.index] is not value:
                    self.fail(use.op, "a value's use list names an operand it is not")
