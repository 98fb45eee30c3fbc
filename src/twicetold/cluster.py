"""Near-duplicate document clusters: connected components of exact and verified near pairs,
each with a canonical member chosen by a rule (``earliest``, ``longest`` or ``first``)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from . import _kernels
from .config import KeepRule


@dataclass(frozen=True)
class Components:
    """``label[i]``: the component of document ``i`` (its smallest member); ``canonical[i]``:
    the canonical member of that component (``i`` itself for a singleton)."""

    label: npt.NDArray[np.int64]
    canonical: npt.NDArray[np.int64]

    def groups(self) -> list[npt.NDArray[np.int64]]:
        """Members of each component of two or more documents, in input order."""
        order = np.argsort(self.label, kind="stable")
        labels = self.label[order]
        cuts = np.flatnonzero(np.diff(labels)) + 1
        return [g for g in np.split(order, cuts) if len(g) > 1]


def rank_for_keep(rule: KeepRule, dates: Sequence[str | None], lengths: Sequence[int]) -> list[tuple]:
    """A sort key per document: the canonical member of a cluster has the smallest key.

    ``earliest``: the earliest date, documents without one last, then input order;
    ``longest``: the longest text, then input order; ``first``: input order.
    """
    if rule == "earliest":
        return [(d is None, d or "", i) for i, d in enumerate(dates)]
    if rule == "longest":
        return [(-n, i) for i, n in enumerate(lengths)]
    return [(i,) for i in range(len(lengths))]


def components(n: int, edges: npt.NDArray[np.int64], rank: Sequence[tuple]) -> Components:
    """Connected components of ``n`` documents joined by ``edges``, and their canonical members."""
    label = _kernels.connected_components(n, edges.reshape(-1, 2).astype(np.int64))
    canonical = np.arange(n, dtype=np.int64)
    best: dict[int, int] = {}
    for i in np.flatnonzero(label != np.arange(n)).tolist() + np.unique(label).tolist():
        root = int(label[i])
        if root not in best or rank[i] < rank[best[root]]:
            best[root] = i
    for i in range(n):
        canonical[i] = best.get(int(label[i]), i)
    return Components(label, canonical)
