"""twicetold: find text that was told twice.

Near-duplicate documents and passages reused with light edits across text collections, with
exact character offsets in both documents.

>>> import twicetold
>>> passages = twicetold.align(
...     "Officials said the bridge would reopen on Tuesday after repairs to its main cable.",
...     "LONDON - Officials said the bridge would reopen on Tuesday after repairs to its main cable.")
>>> [(p.a_start, p.b_start, p.score) for p in passages]
[(0, 9, 1.0)]
"""

from .align import align
from .config import NearConfig, PassageConfig, ReadConfig, ScanConfig, SketchConfig
from .errors import ConfigError, InputError, OutputError, TwicetoldError
from .model import Cluster, Document, InputProblem, Pair, Passage
from .normalize import tokenize
from .outputs import write_results
from .pipeline import DedupResult, ScanResult, dedup, scan
from .readers import read_documents

__version__ = "0.1.0"

__all__ = [
    "Cluster",
    "ConfigError",
    "DedupResult",
    "Document",
    "InputError",
    "InputProblem",
    "NearConfig",
    "OutputError",
    "Pair",
    "Passage",
    "PassageConfig",
    "ReadConfig",
    "ScanConfig",
    "ScanResult",
    "SketchConfig",
    "TwicetoldError",
    "__version__",
    "align",
    "dedup",
    "read_documents",
    "scan",
    "tokenize",
    "write_results",
]
