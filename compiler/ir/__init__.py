"""The compiler's IR: structured SSA with typed values, ops in blocks, and if/for/while ops
with nested regions and carried values (in the style of MLIR's scf dialect).

- :mod:`.types`: scalar types (``i32``, ``f32``, ...) and :class:`ArrayType`;
- :mod:`.ops`: the op registry, one row per op (arity, type rule, effects, semantics);
- :mod:`.core`: :class:`Value`, :class:`Op`, :class:`Block`, :class:`Region`, with
  use-def chains; :mod:`.function`: :class:`Function` and :class:`Module`;
- :mod:`.builder` and :mod:`.control`: the one API that creates IR, type-checked;
- :mod:`.printer`, :mod:`.parser`: the text form, round-tripping;
- :mod:`.verifier`: the checks run between passes;
- :mod:`.semantics`: exact scalar semantics (constant folding);
- :mod:`.clone`: copying ops and regions (unrolling, inlining).
"""

from .builder import Builder
from .clone import clone_function, clone_op, clone_region, inline_region_before
from .core import Block, BlockArg, Op, OpResult, Region, Use, Value
from .function import Function, Module
from .ops import OPS, Effect, OpInfo
from .parser import parse_function, parse_module
from .printer import print_function, print_module, print_op
from .types import (
    SCALAR_TYPES,
    AddressSpace,
    ArrayType,
    ScalarKind,
    ScalarType,
    Type,
    bool_,
    f16,
    f32,
    f64,
    i8,
    i16,
    i32,
    i64,
    u8,
    u16,
    u32,
    u64,
)
from .verifier import verify, verify_function

__all__ = [
    "OPS",
    "SCALAR_TYPES",
    "AddressSpace",
    "ArrayType",
    "Block",
    "BlockArg",
    "Builder",
    "Effect",
    "Function",
    "Module",
    "Op",
    "OpInfo",
    "OpResult",
    "Region",
    "ScalarKind",
    "ScalarType",
    "Type",
    "Use",
    "Value",
    "bool_",
    "clone_function",
    "clone_op",
    "clone_region",
    "f16",
    "f32",
    "f64",
    "i8",
    "i16",
    "i32",
    "i64",
    "inline_region_before",
    "parse_function",
    "parse_module",
    "print_function",
    "print_module",
    "print_op",
    "u8",
    "u16",
    "u32",
    "u64",
    "verify",
    "verify_function",
]
