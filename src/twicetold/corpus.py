"""The documents of a scan as it reads them: their records (id, source, date, ...) for the
outputs, their texts in the scan's text store (read back to align passages), and their
features (sketches, shingles; ``sketch``) a batch at a time, in input order: row ``i`` is
the ``i``-th document read, whatever the batching.
"""

from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import replace

import pyarrow.compute as pc

from . import readers
from .config import SketchConfig
from .model import DocumentRecord, sort_key_date
from .sketch import Features, Shingles, featurize
from .store import Spill, TextStore


class Corpus:
    """Per-document state the stages share, kept compact: texts go to the store, and
    features are computed a batch at a time.

    Batches of clean JSON Lines come sketched by the reader thread that parsed them
    (``sketch_block``, one thread per block: no barriers, and the cores stay busy with
    parsing and sketching alike). Other batches are sketched by one parallel kernel in a
    background thread (it releases the GIL) while the next batch is read; one batch at a
    time, so at most two batches are in memory and the parallel kernel is never entered
    from two threads at once.
    """

    def __init__(self, store: TextStore, spill: Spill, sketch: SketchConfig, keep_shingles: bool,
                 text_key: str) -> None:
        self.store = store
        self.spill = spill  # where the batches' shingles go beyond the memory budget
        self.text_key = text_key  # the JSON field that holds the text, for lines re-read in place
        self.sketch = sketch
        self.keep_shingles = keep_shingles
        self.records: list[DocumentRecord] = []
        self.order_dates: list[str | None] = []
        self._parts: list[Features] = []
        self._pending: Future[Features] | None = None
        self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="twicetold-sketch")

    def sketch_block(self, batch: readers.DocumentBatch) -> Features:
        """A batch's features on the calling thread alone (see the class docstring)."""
        return featurize(batch.texts, self.sketch, keep_shingles=self.keep_shingles, parallel=False)

    def add(self, batch: readers.DocumentBatch) -> None:
        self._collect()  # batches stay in order
        if isinstance(batch.prepared, Features):
            self._parts.append(self._kept(batch.prepared))
        else:
            # dedup needs only the sketches (~0.5 KB per document), not the shingles
            self._pending = self._worker.submit(featurize, batch.texts, self.sketch,
                                                keep_shingles=self.keep_shingles)
        if self.keep_shingles:  # texts are re-read only to align passages
            if batch.lines is not None:
                self.store.add_lines(*batch.lines, self.text_key)
            else:
                self.store.add_utf8(batch.texts)
        lengths = pc.utf8_length(batch.texts).to_pylist()
        for i, meta in enumerate(batch.meta()):
            self.records.append(DocumentRecord(batch.ids[i], batch.sources[i], batch.dates[i], lengths[i],
                                               batch.encodings[i], batch.warnings[i], meta, batch.origins[i]))
        keys = {d: sort_key_date(d) for d in set(batch.dates)}  # a news batch holds few distinct dates
        self.order_dates.extend(keys[d] for d in batch.dates)

    def _collect(self) -> None:
        if self._pending is not None:
            self._parts.append(self._kept(self._pending.result()))
            self._pending = None

    def _kept(self, features: Features) -> Features:
        """A batch's features with its shingles spilled to disk, once past the memory budget."""
        parts = tuple((self.spill.keep(flat), offsets) for flat, offsets in features.shingles.parts)
        return replace(features, shingles=Shingles(parts))

    def features(self) -> Features:
        """All batches' features, joined."""
        self._collect()
        self._worker.shutdown()
        features = Features.concat(self._parts, self.sketch.num_perm)
        self._parts = [features]
        return features

    def release_shingles(self) -> Features:
        """The features (joined by ``features``) without their shingles, which are let go."""
        assert len(self._parts) == 1
        features = replace(self._parts[0], shingles=Shingles(()))
        self._parts = [features]
        return features

    def __len__(self) -> int:
        return len(self.records)
