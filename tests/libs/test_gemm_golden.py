"""The SIMT template's hot loop, as golden assembly: the K loop of the heuristic's 64x64
config (64x64x8, 4x4 thread tile read with LDS.128, tile copies with LDG.E.128, two
stages, A padded by 4 words, tiles dividing the problem) on the simulator, with its
control codes. Any code-generation change that touches the loop shows here as a diff.

Run ``pytest tests/libs/test_gemm_golden.py --update-golden`` to rewrite the file on
purpose (and read the diff before committing it).
"""

from __future__ import annotations

import pathlib
import re

import numpy as np

from warpforge.libs import gemm
from warpforge.libs.gemm.config import GemmConfig
from warpforge.libs.gemm.simt import gemm_simt

GOLDEN = pathlib.Path(__file__).resolve().parents[1] / "golden" / "gemm_simt_hot_loop.sass"
REPO = pathlib.Path(gemm.__file__).resolve().parents[2]


def hot_loop(asm: str) -> str:
    """The lines of the loop with the most instructions, label to back branch."""
    lines = asm.splitlines()
    best: list[str] = []
    for i, line in enumerate(lines):
        label = re.match(r"(\.L_loop\d+):", line.strip())
        if not label:
            continue
        body = [line]
        for later in lines[i + 1:]:
            body.append(later)
            if "BRA" in later and f"({label.group(1)})" in later:
                break
        if len(body) > len(best):
            best = body
    return "\n".join(best) + "\n"


def test_the_default_configs_hot_loop_matches_the_golden_file(request):
    cfg = GemmConfig(64, 64, 8, 4, 4, STAGES=2, PAD=4, VEC=4)  # the heuristic's 64x64
    A = np.ones((1024, 1024), np.float32)
    asm = gemm_simt.compile(A, A, A.copy(), np.zeros(1, np.float32), 1024, 1024, 1024,
                            1.0, 0.0, target="sim", BETA=0, HAS_BIAS=0, ACT=0, EVEN=1,
                            **cfg.constexprs()).asm
    text = hot_loop(asm).replace(str(REPO) + "/", "")
    assert text.count("FFMA") == cfg.BK * cfg.TM * cfg.TN
    # each thread's fragments: TM + TN words a K step, four to a load
    assert text.count("LDS.128") == cfg.BK * (cfg.TM + cfg.TN) // 4
    # the tile copy: a run of 4 words of each tile a thread, one LDG.E.128 each; B's run
    # stored with one STS.128, A's transposed into 4 STS
    assert text.count("LDG.E.128") == 2 and "LDG.E " not in text
    assert text.count("STS.128") == 1 and text.count("STS ") == 4
    if request.config.getoption("--update-golden"):
        GOLDEN.write_text(text)
    assert GOLDEN.exists(), f"no golden file {GOLDEN.name}: run pytest --update-golden"
    assert text == GOLDEN.read_text(), "the template's hot loop changed (see the diff)"
