"""``warpforge profile SCRIPT.py``: every launch's report, one kernel's, CSV, traces."""

from __future__ import annotations

import csv
import io
import json
import textwrap

import pytest

from warpforge.cli import main

SCRIPT = textwrap.dedent('''
    import sys
    import numpy as np
    import warpforge as wf

    @wf.kernel
    def scale(x: wf.f32[:], n: wf.i32):
        i = wf.block_idx.x * wf.block_dim.x + wf.thread_idx.x
        if i < n:
            x[i] = x[i] * 2.0

    @wf.kernel
    def shift(x: wf.f32[:], n: wf.i32):
        i = wf.block_idx.x * wf.block_dim.x + wf.thread_idx.x
        if i < n:
            x[i] = x[i] + 1.0

    n = int(sys.argv[1])
    x = np.ones(n, np.float32)
    scale[(n + 127) // 128, 128](x, n)
    shift[(n + 127) // 128, 128](x, n)
    assert (x == 3).all()
    print("script finished")
    sys.exit(int(sys.argv[2]) if len(sys.argv) > 2 else 0)
''')


@pytest.fixture
def script(tmp_path):
    path = tmp_path / "app.py"
    path.write_text(SCRIPT)
    return str(path)


def test_profile_prints_a_report_for_every_launch(script, capsys):
    assert main(["profile", "--arch", "test", script, "1000"]) == 0
    out = capsys.readouterr().out
    assert "==PROF== launch 1: scale" in out and "==PROF== launch 2: shift" in out
    assert out.count("Section: GPU speed of light") == 2
    assert "x[i] = x[i] * 2.0" in out and "script finished" in out


def test_profile_reports_one_kernel_and_writes_its_trace(script, capsys, tmp_path):
    trace = tmp_path / "t.json"
    assert main(["profile", "--arch", "test", "--kernel", "shift", "--trace", str(trace),
                 script, "500"]) == 0
    out = capsys.readouterr().out
    assert "launch 1: shift" in out and ": scale" not in out
    events = json.loads(trace.read_text())["traceEvents"]
    assert sum(e.get("cat") == "cta" for e in events) == 4


def test_profile_csv_has_a_row_per_source_line_and_launch(script, capsys):
    assert main(["profile", "--arch", "test", "--csv", script, "256"]) == 0
    text = capsys.readouterr().out.replace("script finished\n", "")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert {r["kernel"] for r in rows} == {"scale", "shift"}
    body = [r for r in rows if "x[i] * 2.0" in r["source"]]
    assert len(body) == 1 and int(body[0]["sectors"]) > 0


def test_profile_passes_on_the_scripts_exit_status(script, capsys):
    assert main(["profile", "--arch", "test", script, "64", "3"]) == 3


def test_profile_of_a_missing_script_is_an_error(tmp_path, capsys):
    assert main(["profile", str(tmp_path / "nope.py")]) == 1
    assert "no such script" in capsys.readouterr().err
