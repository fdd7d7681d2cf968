"""Describe the machine a benchmark ran on, for the first lines of its output."""

from __future__ import annotations

import os
import platform

import numpy as np


def cpu_name() -> str:
    """The CPU model as the kernel reports it, or the platform's guess."""
    try:
        with open("/proc/cpuinfo") as info:
            for line in info:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def describe() -> str:
    """One line: CPU, cores, Python and numpy versions."""
    return (
        f"machine: {cpu_name()}, {os.cpu_count()} cores, {platform.machine()}, "
        f"Python {platform.python_version()}, numpy {np.__version__}"
    )
