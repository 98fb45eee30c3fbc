"""Deduplication: a corpus written again without its near duplicates, in its own format."""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path

from . import readers
from .atomic import atomic_path, check_destination
from .config import ScanConfig
from .model import DedupResult, Progress
from .outputs import write_jsonl
from .plan import scan


def dedup(input: str | os.PathLike[str], output: str | os.PathLike[str], config: ScanConfig | None = None,
          *, removed_path: str | os.PathLike[str] | None = None, force: bool = False,
          progress: Progress | None = None) -> DedupResult:
    """Write ``input`` without its near duplicates: one document per near-duplicate cluster,
    chosen by ``config.keep``, in the input's own format with all its columns and row order.

    The map of removed ids (``{"removed", "kept", "kind", "jaccard"}`` per line, JSON Lines) goes
    to ``removed_path``, by default ``OUTPUT.removed.jsonl``.
    """
    cfg = config or ScanConfig()
    cfg = replace(cfg, passages=replace(cfg.passages, enabled=False))
    removed_path = removed_path or f"{os.fspath(output)}.removed.jsonl"
    input_is_dir = input != "-" and Path(input).is_dir()
    check_destination(output, force, [input], is_dir=input_is_dir, holds="texts")
    check_destination(removed_path, force, [input], is_dir=False)
    result = scan([input], cfg, progress=progress)
    canonical_of = {m: c.canonical for c in result.clusters for m in c.members}
    by_member = {}  # each removed member's pair with its canonical member
    for p in result.pairs:
        if canonical_of.get(p.a) == p.b:
            by_member[p.a] = p
        elif canonical_of.get(p.b) == p.a:
            by_member[p.b] = p
    removed: dict[str, str] = {}
    rows = []
    for c in result.clusters:
        for m in c.members:
            if m != c.canonical:
                removed[m] = c.canonical
                pair = by_member.get(m)
                rows.append({"removed": m, "kept": c.canonical, "kind": pair.kind if pair else c.kind,
                             "jaccard": pair.jaccard if pair else None})
    keep = {d.id for d in result.documents} - removed.keys()
    # Both are written in full before either takes its place: a failure leaves neither.
    with atomic_path(removed_path, force, is_dir=False, inputs=[input]) as tmp_map, \
            atomic_path(output, force, is_dir=input_is_dir, inputs=[input], holds="texts") as tmp_out:
        write_jsonl(tmp_map, rows)
        kept = readers.copy_filtered_into(input, tmp_out, keep, cfg.read, threads=cfg.n_workers, name=os.fspath(output))
    return DedupResult(kept, removed, result)
