"""Test-session settings: simulated launches check their control codes (hazard checker)."""

import os

os.environ.setdefault("WARPFORGE_CHECK_HAZARDS", "1")
