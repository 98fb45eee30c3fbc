"""The corpus as read: records, texts in the store and features, one row per document in input order."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa

from twicetold import readers
from twicetold.config import ReadConfig, SketchConfig
from twicetold.corpus import Corpus
from twicetold.sketch import featurize
from twicetold.store import Spill, TextStore


def test_batches_become_rows_in_order_with_texts_records_and_features(tmp_path: Path) -> None:
    texts = [f"document {i} says something of its own, then the same closing words every time" for i in range(9)]
    texts[4] = "é 😀 ünïcode text\r\nwith a second line"
    path = tmp_path / "docs.csv"
    rows = "\n".join(f'd{i},"{t}",src{i % 2},2026-01-0{1 + i % 9}' for i, t in enumerate(texts))
    path.write_text("id,text,source,date\n" + rows + "\n", encoding="utf-8")
    sketch = SketchConfig()
    with TextStore() as store:
        corpus = Corpus(store, Spill(1 << 20), sketch, keep_shingles=True, text_key="text")
        for batch in readers.read_batches([path], ReadConfig(), [], size=4):
            corpus.add(batch)
        features = corpus.features()
        assert len(corpus) == 9 and [r.id for r in corpus.records] == [f"d{i}" for i in range(9)]
        assert [store.get(i) for i in range(9)] == texts
        assert [r.source for r in corpus.records][:2] == ["src0", "src1"]
        assert corpus.order_dates[0] == "2026-01-01T00:00:00"
        assert [r.length for r in corpus.records] == [len(t) for t in texts]
        # The features of the rows are those of the texts sketched at once.
        alone = featurize(pa.array(texts, pa.large_string()), sketch, keep_shingles=True)
        assert np.array_equal(features.signatures, alone.signatures)
        assert all(np.array_equal(features.shingle_set(i), alone.shingle_set(i)) for i in range(9))
        released = corpus.release_shingles()
        assert np.array_equal(released.signatures, features.signatures) and not released.shingles.parts
