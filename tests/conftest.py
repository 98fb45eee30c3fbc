from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
SEEDS = SHARED / "seeds"
DATA = SHARED / "data"


@pytest.fixture(scope="session")
def seed_texts() -> tuple[str, str]:
    """The two seed articles, read as twicetold reads them (UTF-8, no newline translation)."""
    a, b = sorted(SEEDS.glob("*.txt"))
    return tuple(open(p, encoding="utf-8", newline="").read() for p in (a, b))  # type: ignore[return-value]
