"""The first run after an install: the compiled kernels are built once, on every core at once.

Numba compiles a kernel the first time it is called and keeps the machine code in its disk
cache (``cache=True``), so later runs load it in milliseconds. Compiling is single-threaded
and a scan needs about thirty kernels: called one after another by the stages, they took a
minute on two cores before a first scan of the shipped example could start. When the cache
is cold, ``warm_up`` instead calls each stage's kernels on tiny inputs in as many processes as
there are workers, each process writing the cache; the run then loads them from it.

The tiny inputs have the same types as a real run's (array dtypes, layouts and read-only
flags decide which machine code is used): ``tests/test_warmup.py`` checks that a scan after
a warm-up compiles nothing. A kernel the exercises miss is still compiled when called, as
before, so a gap costs time, never a result.
"""

from __future__ import annotations

import multiprocessing as mp
import signal
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

Progress = Callable[[str, int, int | None], None]


def _sketching() -> None:
    import pyarrow as pa

    from .config import SketchConfig
    from .sketch import featurize

    texts = pa.array(["one two three four five six", "seven eight nine ten eleven twelve"], type=pa.large_string())
    featurize(texts, SketchConfig(), keep_shingles=True, parallel=True)


def _json_lines() -> None:
    """The compiled JSON Lines reader, and its threads' sketching of the blocks they parse."""
    import os
    import tempfile

    from . import readers
    from .config import ReadConfig, SketchConfig
    from .sketch import featurize

    def sketch(batch: readers.DocumentBatch) -> object:
        return featurize(batch.texts, SketchConfig(), keep_shingles=True, parallel=False)

    with tempfile.TemporaryDirectory(prefix="twicetold-warmup-") as folder:
        path = os.path.join(folder, "warm.jsonl")
        with open(path, "w", encoding="utf-8") as f:
            f.write('{"id": "a", "text": "one two three \\u00e9", "date": "2026-01-02", "n": 1.5}\n'
                    '{"id": "b", "text": "four five six", "source": "s", "tags": [true, null]}\n')
        for _ in readers.read_batches([path], ReadConfig(), [], prepare=sketch):
            pass


def _near_duplicates() -> None:
    from . import _kernels as k

    sigs = np.zeros((4, 8), dtype=np.uint32)
    keys = k.band_keys(sigs, 2, 4)
    order = np.argsort(keys[:, 0], kind="stable")
    k.bucket_pairs(np.ascontiguousarray(keys[:, 0][order]), order.astype(np.int64), 16)
    k.estimate_jaccard(sigs, np.array([[0, 1]], dtype=np.int64))
    k.exact_jaccard(np.unique(np.arange(3, dtype=np.uint64)), np.unique(np.arange(2, dtype=np.uint64)))
    k.connected_components(4, np.array([[0, 1]], dtype=np.int64))


def _postings() -> None:
    from . import _kernels as k

    flat = np.arange(1, 9, dtype=np.uint64) << np.uint64(40)
    offsets = np.array([0, 4, 8], dtype=np.int64)
    hist = k.posting_histogram(flat, offsets)
    start = np.zeros_like(hist)
    out = np.zeros(8, dtype=np.uint64)
    k.scatter_postings(flat, offsets, 0, start, out, 0)
    k.shared_in_buckets(out, np.zeros((1 << k.PART_BITS) + 1, dtype=np.int64), k.SUB_BUCKET)


def _pairs() -> None:
    from . import _kernels as k

    k.shared_ngram_pairs(np.zeros(0, dtype=np.uint64), 4)
    k.count_pairs(np.array([[0, 1], [0, 1]], dtype=np.int64))


def _alignment() -> None:
    from .align import align

    shared = "the same eleven words were printed by both of these papers today"
    align(f"first {shared} end", f"second {shared} stop")


def _letters() -> None:
    """Letter alignment, the rarity of its passages' words and the letter-gram candidates'
    grams, each kernel called directly with a scan's types: going through ``align`` and
    ``letter_gram_pairs`` would compile the tokenizer's and the postings' kernels here too,
    which other exercises compile at the same time."""
    from .letters import align_letters, sampled_grams, shared_rarity
    from .normalize import code_points, tables

    shared = "the same eleven words were printed by both of these papers today"
    align_letters(f"first {shared} end", f"second {shared} stop")
    z32 = np.zeros(2, dtype=np.int32)
    shared_rarity(np.zeros(2, dtype=np.uint64), np.zeros(2), z32, z32, 0, 1, np.zeros(2, dtype=np.uint64), z32, z32,
                  0, 1, 1)
    t = tables()
    sampled_grams(code_points(shared), np.array([0, len(shared)], dtype=np.int64), t.classes, t.fold_start, t.fold_len,
                  t.fold_data, 12, 4)


def _passage_clusters() -> None:
    from . import _kernels as k

    z = np.zeros(2, dtype=np.int64)
    k.passage_components(z, z.copy(), np.ones(2, dtype=np.int64), z.copy(), 0.5)
    k.gather_bytes(np.zeros(4, dtype=np.uint8), np.frombuffer(b"ab", dtype=np.uint8), z.copy(), z.copy(),
                   np.ones(2, dtype=np.int64))


# name: (exercise, one of the kernels it compiles, to tell whether the cache has them), the
# costliest first so that the processes finish together.
EXERCISES: dict[str, tuple[Callable[[], None], str]] = {
    "postings": (_postings, "_shared_group"),
    "pairs": (_pairs, "_sort_buckets"),
    "sketching": (_sketching, "_featurize_chunk"),
    "alignment": (_alignment, "extend_edges"),
    "letters": (_letters, "letters.pair_spans"),
    "json_lines": (_json_lines, "featurize_block"),
    "near_duplicates": (_near_duplicates, "bucket_pairs"),
    "passage_clusters": (_passage_clusters, "passage_components"),
}


TOKENIZING = {"sketching", "alignment", "json_lines", "letters"}  # the exercises that need the fold tables


def _cached(kernel: str) -> bool:
    """Whether Numba's disk cache holds machine code of ``kernel`` (of ``_kernels``, or
    ``module.kernel``) for this source and machine."""
    import importlib

    module, _, name = kernel.rpartition(".")
    try:
        return bool(getattr(importlib.import_module(f"twicetold.{module or '_kernels'}"), name)
                    ._cache._cache_file._load_index())
    except Exception:  # Numba's cache layout is not public: when in doubt, do not warm up
        return True


def needed(*, json_lines: bool = True, passages: bool = True, letters: bool = False) -> list[str]:
    """The exercises whose kernels are not in the cache yet, for a run that reads JSON Lines
    (``json_lines``), looks for passages (``passages``), and aligns them on letters (``letters``)."""
    skip = set() if letters else {"letters"}
    if not json_lines:
        skip.add("json_lines")
    if not passages:
        skip |= {"postings", "pairs", "alignment", "passage_clusters"}
    return [name for name, (_, kernel) in EXERCISES.items() if name not in skip and not _cached(kernel)]


def worker_signals() -> None:
    """For worker processes: Ctrl-C and SIGTERM are the parent's to handle. It stops the
    workers (SIGTERM, which ends them at once, silently) and cleans up; a worker raising
    KeyboardInterrupt would only print a traceback."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)


def _exercise(name: str) -> str:
    from . import _kernels

    with _kernels.threads(1):  # the other processes have the other cores
        EXERCISES[name][0]()
    return name


def warm_up(names: Sequence[str], workers: int, progress: Progress | None = None) -> None:
    """Run the exercises ``names`` (see ``needed``) on ``workers`` processes at once, so that
    their kernels are compiled into the cache side by side (in this process with one worker);
    ``progress`` sees stage ``"compile"``."""
    report = progress or (lambda stage, done, total: None)
    if not names:
        return
    report("compile", 0, len(names))
    if workers < 2 or len(names) < 2:
        for done, name in enumerate(names, start=1):
            EXERCISES[name][0]()
            report("compile", done, len(names))
        return
    # The exercises that tokenize go last: meanwhile this process builds the fold tables they
    # read (a first run's other one-time cost) and leaves them on disk for them.
    order = [n for n in names if n not in TOKENIZING] + [n for n in names if n in TOKENIZING]
    method = "fork" if "fork" in mp.get_all_start_methods() else "spawn"
    ctx: Any = mp.get_context(method)
    with ctx.Pool(min(workers, len(names)), initializer=worker_signals) as pool:
        running = pool.imap_unordered(_exercise, order)
        if TOKENIZING & set(names):
            from .normalize import tables

            tables()
        for done, _ in enumerate(running, start=1):
            report("compile", done, len(names))
