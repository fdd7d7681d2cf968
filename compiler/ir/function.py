"""Functions and modules: a kernel or device function is a named body region whose block's
arguments are the parameters; a module holds the functions a kernel calls.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence

from ...isa.program import SourceLoc
from ..errors import IRError
from .core import AttrValue, Block, BlockArg, Op, Region, check_attr
from .types import Type


class Function:
    """A kernel or device function: a name, parameters, result types, attributes, a body.

    The parameters are the arguments of the body's block. ``attrs`` holds
    specialization facts such as constexpr values (immutable values, as op attributes).
    ``is_kernel`` is False for device functions (``@wf.func``), which may return results.
    """

    def __init__(self, name: str, params: Sequence[tuple[str | None, Type]] = (),
                 result_types: Sequence[Type] = (), *, is_kernel: bool = True,
                 attrs: Mapping[str, object] | None = None,
                 loc: SourceLoc | None = None) -> None:
        self.name = name
        self.result_types: tuple[Type, ...] = tuple(result_types)
        self.is_kernel = is_kernel
        self.attrs: dict[str, AttrValue] = {k: check_attr(v) for k, v in (attrs or {}).items()}
        self.loc = loc
        block = Block([t for _, t in params], [n for n, _ in params])
        self.body = Region(block)
        self.body.parent = self

    @property
    def block(self) -> Block:
        """The body's block."""
        return self.body.block

    @property
    def params(self) -> tuple[BlockArg, ...]:
        """The parameters (the body block's arguments)."""
        return tuple(self.body.block.args)

    @property
    def param_types(self) -> tuple[Type, ...]:
        """The parameters' types."""
        return self.body.block.arg_types

    def walk(self) -> Iterator[Op]:
        """Every op of the function, pre-order."""
        return self.body.block.walk()

    def __str__(self) -> str:
        from .printer import print_function

        return print_function(self)

    def __repr__(self) -> str:
        return f"<Function {self.name}>"


class Module:
    """Functions by name, in insertion order (a kernel and the device functions it calls)."""

    def __init__(self, functions: Sequence[Function] = ()) -> None:
        self.functions: dict[str, Function] = {}
        for func in functions:
            self.add(func)

    def add(self, func: Function) -> Function:
        """Add ``func``; IRError if the name is taken."""
        if func.name in self.functions:
            raise IRError(f"function @{func.name} is defined twice")
        self.functions[func.name] = func
        return func

    def remove(self, name: str) -> None:
        """Drop function ``name`` (KeyError if absent)."""
        del self.functions[name]

    def get(self, name: str) -> Function | None:
        """The function called ``name``, or None."""
        return self.functions.get(name)

    def __getitem__(self, name: str) -> Function:
        return self.functions[name]

    def __contains__(self, name: object) -> bool:
        return name in self.functions

    def __iter__(self) -> Iterator[Function]:
        return iter(tuple(self.functions.values()))

    def __len__(self) -> int:
        return len(self.functions)

    def __str__(self) -> str:
        from .printer import print_module

        return print_module(self)
