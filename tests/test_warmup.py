"""The first run's warm-up: its exercises compile every kernel a scan of the shipped example
needs, with the very types the scan uses, so that the scan itself compiles nothing."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from twicetold import _warmup

REPO = Path(__file__).resolve().parents[1]

# Compiles the kernels a command needs that are not in the cache, and prints their names.
RECORD = """
import json, sys
from numba.core import event
with event.install_recorder("numba:compile") as recorder:
    from twicetold.cli import main
    try:
        main(sys.argv[1:])
    except SystemExit as e:
        assert not e.code, e.code
compiled = {ev.data["dispatcher"].py_func.__qualname__ for _, ev in recorder.buffer if ev.is_start}
print(json.dumps(sorted(compiled)))
"""

def test_every_exercise_names_a_kernel() -> None:
    import importlib

    for name, (exercise, kernel) in _warmup.EXERCISES.items():
        module, _, kernel_name = kernel.rpartition(".")
        assert callable(exercise) and hasattr(importlib.import_module(f"twicetold.{module or '_kernels'}"),
                                              kernel_name), name


@pytest.mark.slow
def test_after_a_warm_up_a_scan_compiles_nothing(tmp_path: Path) -> None:
    env = {**os.environ, "NUMBA_CACHE_DIR": str(tmp_path / "cache")}
    warm = "from twicetold import _warmup; n = _warmup.needed(letters=True); print(len(n)); _warmup.warm_up(n, 2)"
    done = subprocess.run([sys.executable, "-c", warm], env=env, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr
    assert int(done.stdout) == len(_warmup.EXERCISES)  # a cold cache needs them all
    for corpus, options in (("news", []), ("news.jsonl", []), ("news", ["--anchors", "letters"])):
        done = subprocess.run([sys.executable, "-c", RECORD, "scan", str(REPO / "examples" / corpus),
                               "-o", str(tmp_path / f"{corpus}{len(options)}"), "-q", *options], env=env,
                              capture_output=True, text=True, timeout=900)
        assert done.returncode == 0, done.stderr
        compiled = json.loads(done.stdout.splitlines()[-1])
        assert compiled == [], (corpus, compiled)
    again = subprocess.run([sys.executable, "-c", "from twicetold import _warmup; print(_warmup.needed(letters=True))"],
                           env=env, capture_output=True, text=True, timeout=300)
    assert again.stdout.strip() == "[]"
