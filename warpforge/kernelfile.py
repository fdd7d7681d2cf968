"""Loading a kernel from ``FILE.py:KERNEL`` for the command line (``warpforge asm``)."""

from __future__ import annotations

import importlib.util
import pathlib
import sys

from .dsl.binding import parse_type, split_types
from .dsl.kernel import Kernel
from .isa import WarpforgeError


class KernelFileError(WarpforgeError):
    """A ``FILE.py:KERNEL`` that cannot be loaded, or bad ``--types``/``-D`` values."""


def load_kernel(spec: str) -> Kernel:
    """The ``@wf.kernel`` named KERNEL in the Python file FILE (``FILE.py:KERNEL``)."""
    path_text, sep, name = spec.rpartition(":")
    if not sep or not name:
        raise KernelFileError(f"name the kernel as FILE.py:KERNEL, not {spec!r}")
    path = pathlib.Path(path_text)
    if not path.is_file():
        raise KernelFileError(f"{path_text}: no such file")
    module_name = f"_warpforge_kernels_{abs(hash(path.resolve()))}"
    module_spec = importlib.util.spec_from_file_location(module_name, path)
    module = importlib.util.module_from_spec(module_spec)
    sys.modules[module_name] = module  # dataclasses and pickling look modules up by name
    try:
        module_spec.loader.exec_module(module)
    except WarpforgeError:
        raise
    except Exception as err:  # the user's file failed to import: report, don't crash
        raise KernelFileError(f"{path_text}: importing it failed: "
                              f"{type(err).__name__}: {err}") from None
    found = getattr(module, name, None)
    if not isinstance(found, Kernel):
        kernels = [k for k, v in vars(module).items() if isinstance(v, Kernel)]
        raise KernelFileError(f"{path_text} has no @wf.kernel named {name!r}"
                              + (f" (kernels: {', '.join(kernels)})" if kernels else ""))
    return found


def parse_types(text: str) -> list:
    """``"f32,f32[:],i32"`` as DSL types (commas inside ``[...]`` belong to the type)."""
    try:
        return [parse_type(p) for p in split_types(text)]
    except ValueError as err:
        raise KernelFileError(str(err)) from None


def parse_defines(items: list[str]) -> dict[str, object]:
    """``-D NAME=VALUE`` pairs as constexpr values (ints, floats, True/False)."""
    out: dict[str, object] = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name.isidentifier():
            raise KernelFileError(f"-D takes NAME=VALUE, not {item!r}")
        text = value.strip()
        if text in ("True", "False"):
            out[name] = text == "True"
            continue
        try:
            out[name] = int(text, 0)
        except ValueError:
            try:
                out[name] = float(text)
            except ValueError:
                raise KernelFileError(f"-D {name}: {value!r} is not a number or bool") \
                    from None
    return out
