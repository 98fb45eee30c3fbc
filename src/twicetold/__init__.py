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

import sys
import types
from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .align import align
    from .config import NearConfig, PassageConfig, ReadConfig, ScanConfig, SketchConfig
    from .dedup import dedup
    from .errors import ConfigError, InputError, OutputError, TwicetoldError
    from .executor import Executor, LocalExecutor
    from .model import Cluster, DedupResult, Document, InputProblem, Pair, Passage, ScanResult
    from .normalize import tokenize
    from .outputs import write_results
    from .plan import scan
    from .readers import read_documents

# The public names and the module each lives in. They are imported on first use (PEP 562), so
# that ``import twicetold.model`` or the web app's views do not load Numba and compile nothing.
_HOMES = {
    "align": "align",
    **dict.fromkeys(("NearConfig", "PassageConfig", "ReadConfig", "ScanConfig", "SketchConfig"), "config"),
    **dict.fromkeys(("ConfigError", "InputError", "OutputError", "TwicetoldError"), "errors"),
    **dict.fromkeys(("Cluster", "DedupResult", "Document", "InputProblem", "Pair", "Passage", "ScanResult"), "model"),
    **dict.fromkeys(("Executor", "LocalExecutor"), "executor"),
    "tokenize": "normalize",
    "write_results": "outputs",
    "scan": "plan",
    "dedup": "dedup",
    "read_documents": "readers",
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'twicetold' has no attribute {name!r}")
    value = getattr(import_module(f".{home}", __name__), name)
    globals()[name] = value  # the next lookup finds it without coming here
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_HOMES))


class _Package(types.ModuleType):
    """The package: ``twicetold.align`` is the function, as it was when it was imported
    eagerly, not the submodule of the same name, which importing it would bind here."""

    def __setattr__(self, name: str, value: Any) -> None:
        if name in _HOMES and isinstance(value, types.ModuleType):
            return
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package


__version__ = "0.1.0"

__all__ = [
    "Cluster",
    "ConfigError",
    "DedupResult",
    "Document",
    "Executor",
    "InputError",
    "InputProblem",
    "LocalExecutor",
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
