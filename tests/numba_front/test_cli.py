"""``warpforge numba SCRIPT.py``: scripts written for Numba, ``import numba`` served by
warpforge, on either device, with per-launch reports on request."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from warpforge.cli import main

SCRIPT = textwrap.dedent("""
    import sys
    import numpy as np
    import numba
    from numba import cuda, float32
    import numba.cuda

    @numba.njit
    def host_side(n):
        return n + 1

    @cuda.jit
    def saxpy(a, x, y, out):
        i = cuda.grid(1)
        if i < x.size:
            out[i] = a * x[i] + y[i]

    @cuda.jit
    def block_sum(x, out):
        s = cuda.shared.array(64, dtype=float32)
        t = cuda.threadIdx.x
        s[t] = x[cuda.grid(1)]
        cuda.syncthreads()
        if t == 0:
            total = 0.0
            for k in range(64):
                total += s[k]
            cuda.atomic.add(out, 0, total)

    n = int(sys.argv[1])
    x = np.arange(n, dtype=np.float32)
    out = cuda.device_array(n, dtype=np.float32)
    saxpy[(n + 63) // 64, 64](np.float32(2.0), cuda.to_device(x), cuda.to_device(x), out)
    got = out.copy_to_host()
    total = np.zeros(1, np.float64)
    block_sum[n // 64, 64](x, total)
    ok = np.array_equal(got, 3 * x) and total[0] == x.sum()
    print("ok" if ok else "WRONG", host_side(n), numba.cuda is cuda)
""")


@pytest.mark.parametrize("dev", ["sim", "cpu"])
def test_a_numba_script_runs_on_either_device(tmp_path, capsys, dev):
    path = tmp_path / "script.py"
    path.write_text(SCRIPT)
    before = sys.modules.get("numba")
    assert main(["numba", "--device", dev, str(path), "256"]) == 0
    assert capsys.readouterr().out.split() == ["ok", "257", "True"]
    assert sys.modules.get("numba") is before  # the stand-in is gone afterwards


def test_profile_prints_each_launch(tmp_path, capsys):
    path = tmp_path / "script.py"
    path.write_text(SCRIPT)
    assert main(["numba", "--device", "sim", "--profile", str(path), "128"]) == 0
    out = capsys.readouterr().out
    assert out.count("kernel saxpy") == 1 and out.count("kernel block_sum") == 1
    assert "warp instructions" in out


def test_the_command_line_in_a_fresh_process(tmp_path):
    path = tmp_path / "script.py"
    path.write_text(SCRIPT)
    done = subprocess.run([sys.executable, "-m", "warpforge.cli", "numba", "--device",
                           "cpu", str(path), "128"], capture_output=True, text=True,
                          check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["ok", "129", "True"]


def test_missing_script_is_a_clean_error(tmp_path, capsys):
    assert main(["numba", str(tmp_path / "nope.py")]) == 1
    assert "no such script" in capsys.readouterr().err
