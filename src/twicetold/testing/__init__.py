"""Tools for developing and measuring twicetold, not part of what it does: the generator of
news-like corpora with planted reuse whose truth is known (``synthetic``; ``python -m
twicetold.testing.synthetic --help``) and the scoring helpers the tests and benchmarks share
(``evaluation``)."""
