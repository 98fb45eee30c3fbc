"""Writing without losing anything: outputs that would destroy an input or a user's folder are
refused before any work, operating-system failures on the output side are a clear error (exit
status 4), SIGTERM cleans up as Ctrl-C does, and what a killed run left behind is removed by
the next run to the same output."""

from __future__ import annotations

import errno
import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from twicetold.atomic import atomic_path, check_destination
from twicetold.cli import cli
from twicetold.errors import OutputError

REPO = Path(__file__).resolve().parents[1]
NEWS = REPO / "examples" / "news"


def files_of(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture()
def corpus(tmp_path: Path) -> Path:
    """A copy of the shipped example folder, which the tests try to destroy."""
    return Path(shutil.copytree(NEWS, tmp_path / "news"))


def run(*args: str, cwd: Path | None = None) -> tuple[int, str]:
    """``twicetold ARGS`` as a process (exit statuses come from ``cli.main``)."""
    done = subprocess.run([sys.executable, "-m", "twicetold", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=600)
    return done.returncode, done.stderr


@pytest.mark.parametrize("where", ["same", "inside", "dot", "parent"])
def test_scan_refuses_an_output_that_overlaps_its_input(corpus: Path, where: str) -> None:
    before = files_of(corpus.parent)
    out = {"same": str(corpus), "inside": str(corpus / "results"), "dot": ".", "parent": str(corpus.parent)}[where]
    rc, stderr = run("scan", str(corpus), "-o", out, "--force", "-q", cwd=corpus if where == "dot" else None)
    assert rc == 4, stderr
    assert "input" in stderr and "Traceback" not in stderr
    assert files_of(corpus.parent) == before  # nothing deleted, nothing left behind
    assert sorted(p.name for p in corpus.parent.iterdir()) == ["news"]


def test_scan_through_a_symbolic_link_to_its_input_is_refused(corpus: Path) -> None:
    link = corpus.parent / "link"
    link.symlink_to(corpus)
    result = CliRunner().invoke(cli, ["scan", str(corpus), "-o", str(link), "--force", "-q"])
    assert isinstance(result.exception, OutputError) and "is the input" in result.exception.message
    assert (corpus / "harbor-times").is_dir()


def test_force_replaces_a_results_folder_but_not_a_users_folder(corpus: Path, tmp_path: Path) -> None:
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("my notes")
    result = CliRunner().invoke(cli, ["scan", str(corpus), "-o", str(mine), "--force", "-q"])
    assert isinstance(result.exception, OutputError) and "not a twicetold results folder" in result.exception.message
    assert files_of(mine) == {"notes.txt": b"my notes"}
    out = tmp_path / "results"
    for _ in range(2):  # a results folder (and an empty one) is replaced
        result = CliRunner().invoke(cli, ["scan", str(corpus), "-o", str(out), "--force", "-q"])
        assert result.exit_code == 0, result.output
    assert json.loads((out / "run.json").read_text())["counts"]["documents"] == 14
    a_file = tmp_path / "a-file"
    a_file.write_text("keep")
    result = CliRunner().invoke(cli, ["scan", str(corpus), "-o", str(a_file), "--force", "-q"])
    assert isinstance(result.exception, OutputError) and a_file.read_text() == "keep"


def test_dedup_refuses_to_write_over_its_input(tmp_path: Path) -> None:
    corpus = tmp_path / "news.jsonl"
    shutil.copy(REPO / "examples" / "news.jsonl", corpus)
    before = corpus.read_bytes()
    for args in (["-o", str(corpus)], ["-o", str(tmp_path / "out.jsonl"), "--removed", str(corpus)]):
        result = CliRunner().invoke(cli, ["dedup", str(corpus), *args, "--force", "-q"])
        assert isinstance(result.exception, OutputError), result.output
        assert "is the input" in result.exception.message
    assert corpus.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["news.jsonl"]


def test_report_refuses_to_write_over_its_inputs(corpus: Path, tmp_path: Path) -> None:
    out = tmp_path / "results"
    assert CliRunner().invoke(cli, ["scan", str(corpus), "-o", str(out), "-q"]).exit_code == 0
    before, corpus_before = files_of(out), files_of(corpus)
    article = corpus / "harbor-times" / "2026-03-04-port-strike.txt"
    notes = tmp_path / "notes.html"
    notes.write_text("<p>mine</p>")
    for target in (out / "pairs.jsonl", out / "run.json", article, notes):
        result = CliRunner().invoke(cli, ["report", str(out), "-o", str(target)])
        assert isinstance(result.exception, OutputError), (target, result.output)
    assert files_of(out) == before and files_of(corpus) == corpus_before and notes.read_text() == "<p>mine</p>"
    for _ in range(2):  # its own report is replaced
        assert CliRunner().invoke(cli, ["report", str(out)]).exit_code == 0
    assert sorted(set(files_of(out)) - set(before)) == ["report.html"]


@pytest.mark.skipif(not Path("/proc/self").exists(), reason="needs /proc")
def test_an_output_that_cannot_be_written_is_exit_status_4(corpus: Path, tmp_path: Path) -> None:
    rc, stderr = run("scan", str(corpus), "-o", "/proc/twicetold-results", "-q")
    assert rc == 4 and "cannot write /proc/twicetold-results" in stderr and "Traceback" not in stderr
    rc, stderr = run("dedup", str(REPO / "examples" / "news.jsonl"), "-o", "/proc/news.jsonl", "-q")
    assert rc == 4 and "cannot write /proc/news" in stderr and "Traceback" not in stderr
    out = tmp_path / "results"
    assert CliRunner().invoke(cli, ["scan", str(corpus), "-o", str(out), "-q"]).exit_code == 0
    rc, stderr = run("report", str(out), "-o", "/proc/report.html")
    assert rc == 4 and "cannot write /proc/report.html" in stderr and "Traceback" not in stderr


@pytest.mark.parametrize("err", [errno.ENOSPC, errno.EROFS, errno.EACCES])
def test_a_failure_while_writing_is_a_clear_error_and_leaves_nothing(tmp_path: Path, err: int) -> None:
    dest = tmp_path / "results"
    with pytest.raises(OutputError) as caught, atomic_path(dest, force=False, is_dir=True) as tmp:
        (tmp / "pairs.jsonl").write_text("half")
        raise OSError(err, os.strerror(err))
    assert os.strerror(err) in caught.value.message and caught.value.exit_code == 4 and caught.value.hint
    assert list(tmp_path.iterdir()) == []


def test_a_failure_in_the_final_rename_leaves_the_old_results(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    dest = tmp_path / "results"
    dest.mkdir()
    (dest / "run.json").write_text(json.dumps({"versions": {"twicetold": "0"}}))

    def full(*args: object) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    with pytest.raises(OutputError), atomic_path(dest, force=True, is_dir=True) as tmp:
        (tmp / "run.json").write_text("new")
        monkeypatch.setattr(os, "replace", full)
    monkeypatch.undo()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["results"]
    assert "twicetold" in (dest / "run.json").read_text()


def test_the_next_run_removes_what_a_killed_run_left(tmp_path: Path) -> None:
    dest = tmp_path / "results"
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    pid = int(dead.stdout)  # a process that has ended
    stale = [tmp_path / f".results.twicetold-tmp-{pid}-abc", tmp_path / f".results.twicetold-old-{pid}-def"]
    for folder in stale:
        folder.mkdir()
        (folder / "pairs.jsonl").write_text("left by kill -9")
    alive = tmp_path / f".results.twicetold-tmp-{os.getppid()}-xyz"  # a running writer's: kept
    alive.mkdir()
    other = tmp_path / f".other.twicetold-tmp-{pid}-abc"  # another output's: not ours to remove
    other.mkdir()
    with atomic_path(dest, force=False, is_dir=True) as tmp:
        (tmp / "run.json").write_text("{}")
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([alive.name, other.name, "results"])


def test_check_destination_refuses_before_any_work(tmp_path: Path) -> None:
    (tmp_path / "in.jsonl").write_text("{}")
    with pytest.raises(OutputError, match="contains the input"):
        check_destination(tmp_path, True, [tmp_path / "in.jsonl"])
    with pytest.raises(OutputError, match="already exists"):
        check_destination(tmp_path / "in.jsonl", False)
    assert check_destination(tmp_path / "new", False, ["-", tmp_path / "in.jsonl"]) == tmp_path / "new"


def _fds_under(pid: int, folder: Path) -> list[str]:
    out = []
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith(str(folder)):
            out.append(target)
    return out


@pytest.mark.skipif(not Path("/proc/self/fd").exists(), reason="needs /proc")
def test_sigterm_cleans_up_like_ctrl_c(tmp_path: Path) -> None:
    """SIGTERM while reading standard input: exit 143, no traceback, no results folder and no
    temporary file left (the temporary copy of the input is unlinked as soon as it is open)."""
    temp = tmp_path / "temp"
    temp.mkdir()
    env = {**os.environ, "TMPDIR": str(temp)}
    proc = subprocess.Popen([sys.executable, "-m", "twicetold", "scan", "-", "-o", str(tmp_path / "results"),
                             "--format", "jsonl", "-q", "--temp-dir", str(temp)],
                            stdin=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    assert proc.stdin is not None and proc.stderr is not None
    proc.stdin.write(b'{"id": "a", "text": "one document"}\n')
    proc.stdin.flush()
    # The process is reading once it holds a temporary file open: wait for that (no sleeps
    # as synchronisation: poll /proc, bounded).
    for _ in range(600_000):
        if proc.poll() is not None or _fds_under(proc.pid, temp):
            break
    assert proc.poll() is None, proc.stderr.read()
    proc.send_signal(signal.SIGTERM)
    stderr = proc.stderr.read().decode()
    assert proc.wait(timeout=60) == 128 + signal.SIGTERM, stderr
    assert "terminated" in stderr and "Traceback" not in stderr
    proc.stdin.close()
    assert list(temp.iterdir()) == [] and sorted(p.name for p in tmp_path.iterdir()) == ["temp"]


# Ctrl-C in a terminal reaches the whole foreground process group: the alignment workers
# too. This script makes a worker press it, in the middle of alignment.
CTRL_C_IN_ALIGNMENT = """
import os, signal, sys
from twicetold import passages
passages.PARALLEL_MIN_PAIRS = 1
align_chunk = passages._align_chunk
def pressed(job, chunk):
    os.killpg(0, signal.SIGINT)
    return align_chunk(job, chunk)
passages._align_chunk = pressed
from twicetold.cli import main
main(sys.argv[1:])
"""


def test_ctrl_c_during_alignment_prints_no_worker_traceback(tmp_path: Path) -> None:
    shared = " ".join(f"word{i}" for i in range(60))
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for i in range(12):
        (corpus / f"d{i}.txt").write_text(f"Story {i} opens differently here. {shared} And ends its own way {i}.")
    proc = subprocess.run([sys.executable, "-c", CTRL_C_IN_ALIGNMENT, "scan", str(corpus), "-o",
                           str(tmp_path / "results"), "-q", "--workers", "2"],
                          capture_output=True, text=True, timeout=600, start_new_session=True)
    assert proc.returncode == 130, proc.stderr
    assert "interrupted" in proc.stderr and "Traceback" not in proc.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["corpus"]
