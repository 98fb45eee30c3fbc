"""Writing without losing anything: every output (results folder, report, deduplicated corpus)
goes to a temporary sibling that replaces the destination only when complete, and is refused
before any work when it would destroy an input or a folder twicetold did not write.

Temporaries carry the writer's process id in their names, so a later run to the same
destination removes what a killed one (``kill -9``) left behind.
"""

from __future__ import annotations

import errno
import glob
import json
import os
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

from .errors import OutputError, TwicetoldError

TMP_MARK = ".twicetold-tmp-"
OLD_MARK = ".twicetold-old-"


def _replaceable(folder: Path, holds: str) -> bool:
    """A folder that twicetold may replace: empty, or one it writes (``holds``: "results", a
    results folder whose ``run.json`` twicetold wrote; "texts", a deduplicated folder of text
    files). Anything else may hold a user's files, which ``--force`` must not delete
    (``scan ... -o ~ --force`` would otherwise remove a home folder)."""
    try:
        entries = list(folder.iterdir())
        if not entries:
            return True
        if holds == "texts":
            return all(p.is_dir() or p.name.endswith((".txt", ".txt.gz", ".txt.zst")) for p in folder.rglob("*"))
        run = json.loads((folder / "run.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(run, dict) and "twicetold" in (run.get("versions") or {})


def _overlap(out: Path, inputs: Iterable[str | os.PathLike[str]]) -> str | None:
    """How ``out`` overlaps the first input it is, contains or lies inside (symbolic links
    resolved), as words for an error message; None when it overlaps none."""
    for given in inputs:
        if os.fspath(given) == "-":
            continue
        inp = Path(os.path.realpath(given))
        if out == inp:
            return f"is the input {os.fspath(given)}"
        if out in inp.parents:
            return f"contains the input {os.fspath(given)}"
        if inp in out.parents:
            return f"lies inside the input {os.fspath(given)}"
    return None


def check_destination(path: str | os.PathLike[str], force: bool,
                      inputs: Iterable[str | os.PathLike[str]] = (), *, is_dir: bool | None = None,
                      holds: str = "results") -> Path:
    """Fail early, before any work, when writing ``path`` could lose something: it is, contains
    or lies inside one of ``inputs``; it exists and ``force`` is not set; or (a folder) it
    exists and is neither empty nor a folder twicetold writes (``holds``: "results" or "texts",
    see ``_replaceable``). ``is_dir`` says whether a folder is to be written (None: either).
    Returns the destination as an absolute path."""
    out = Path(os.path.abspath(path))  # "." and "x/.." get a name and a parent
    real = Path(os.path.realpath(out))
    clash = _overlap(real, inputs)
    if clash is not None:
        raise OutputError(f"the output {path} {clash}: writing it could destroy the input",
                          "write the output somewhere else")
    if out.exists() or out.is_symlink():
        if not force:
            raise OutputError(f"{path} already exists",
                              "replace it with {force}, or choose another path")
        if out.is_dir() and not out.is_symlink():
            if is_dir is False:
                raise OutputError(f"{path} is a folder", "give a file name")
            if not _replaceable(out, holds):
                what = "a twicetold results folder" if holds == "results" else "a folder of text files"
                raise OutputError(f"{path} exists and is not {what}: it is not replaced",
                                  "choose a new or empty folder")
        elif is_dir:
            raise OutputError(f"{path} exists and is not a folder: it is not replaced", "choose another path")
    if not out.parent.is_dir():
        raise OutputError(f"the folder {out.parent} does not exist", "create it first")
    return out


def remove_stale(dest: Path) -> None:
    """Remove temporaries of ``dest`` left by a process that no longer runs (killed with -9):
    their names carry the writer's process id."""
    for mark in (TMP_MARK, OLD_MARK):
        for stale in dest.parent.glob(f".{glob.escape(dest.name)}{mark}*"):
            pid = stale.name[len(dest.name) + 1 + len(mark):].split("-", 1)[0]
            if pid.isdigit() and not _alive(int(pid)):
                with suppress(OSError):
                    if stale.is_dir() and not stale.is_symlink():
                        shutil.rmtree(stale)
                    else:
                        stale.unlink()


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # it exists, owned by someone else
        return True
    return True


def output_error(dest: str | os.PathLike[str], e: OSError) -> OutputError:
    """An operating-system error met while writing ``dest``, as a clear error (exit status 4)."""
    reason = e.strerror or str(e)
    hints = {errno.ENOSPC: "free space on that disk, or write elsewhere",
             errno.EROFS: "that file system is read-only: write elsewhere",
             errno.EACCES: "you may not write there: write elsewhere",
             errno.EPERM: "you may not write there: write elsewhere"}
    return OutputError(f"cannot write {dest}: {reason}", hints.get(e.errno or 0, "write elsewhere"))


def _replace_folder(new: Path, dest: Path) -> None:
    """Put the folder ``new`` in the place of the folder ``dest``, which cannot be done in one
    rename: ``dest`` is moved aside first, and moved back if ``new`` cannot take its place."""
    aside = Path(tempfile.mkdtemp(prefix=f".{dest.name}{OLD_MARK}{os.getpid()}-", dir=dest.parent))
    try:
        os.replace(dest, aside / dest.name)
    except BaseException:
        aside.rmdir()
        raise
    try:
        os.replace(new, dest)
    except BaseException:
        os.replace(aside / dest.name, dest)
        aside.rmdir()
        raise
    shutil.rmtree(aside, ignore_errors=True)


@contextmanager
def atomic_path(path: str | os.PathLike[str], force: bool, is_dir: bool,
                inputs: Iterable[str | os.PathLike[str]] = (), holds: str = "results") -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on success it replaces ``path``, on failure it
    is removed and ``path`` is left as it was. Operating-system errors (a full disk, a
    read-only file system) become ``OutputError``; see ``check_destination`` for what is
    refused before anything is written."""
    dest = check_destination(path, force, inputs, is_dir=is_dir, holds=holds)
    remove_stale(dest)
    # The process id in the name lets a later run remove what a killed one left behind.
    prefix = f".{dest.name}{TMP_MARK}{os.getpid()}-"
    # Keep the destination's extensions: writers pick the format and compression from them.
    suffix = "".join(dest.suffixes)
    try:
        if is_dir:
            tmp = Path(tempfile.mkdtemp(prefix=prefix, suffix=suffix, dir=dest.parent))
        else:
            fd, name = tempfile.mkstemp(prefix=prefix, suffix=suffix, dir=dest.parent)
            os.close(fd)
            tmp = Path(name)
    except OSError as e:
        raise output_error(path, e) from e
    try:
        # mkdtemp/mkstemp make owner-only paths; the result gets the mode a plain mkdir/open would.
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, (0o777 if is_dir else 0o666) & ~umask)
        yield tmp
        if is_dir and dest.exists():
            _replace_folder(tmp, dest)
        else:
            os.replace(tmp, dest)  # a file is replaced in one rename
    except BaseException as e:
        if tmp.is_dir():
            shutil.rmtree(tmp, ignore_errors=True)
        elif tmp.exists():
            tmp.unlink()
        if isinstance(e, OSError) and not isinstance(e, TwicetoldError):
            raise output_error(path, e) from e
        raise
