"""Test-session settings: simulated launches check their control codes (hazard checker),
CPU launches check array bounds, and compiled kernels are cached in a fresh folder of this
session's, not the user's."""

import os
import tempfile

os.environ.setdefault("WARPFORGE_CHECK_HAZARDS", "1")
os.environ.setdefault("WARPFORGE_CACHE_DIR", tempfile.mkdtemp(prefix="warpforge-test-cache-"))
os.environ.setdefault("WARPFORGE_CPU_CHECKED", "1")


def pytest_addoption(parser):
    """``--update-golden`` rewrites tests/golden/ from the compiler's current output."""
    parser.addoption("--update-golden", action="store_true", default=False,
                     help="rewrite the golden assembly files in tests/golden/")
