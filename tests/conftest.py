from __future__ import annotations

from pathlib import Path

import pytest

from twicetold.evaluation import shared_folder

REPO = Path(__file__).resolve().parents[1]
SHARED = shared_folder(REPO)
SEEDS = SHARED / "seeds"
DATA = SHARED / "data"


@pytest.fixture(scope="session")
def seed_texts() -> tuple[str, str]:
    """The two seed articles, read as twicetold reads them (UTF-8, no newline translation)."""
    a, b = sorted(SEEDS.glob("*.txt"))
    return tuple(open(p, encoding="utf-8", newline="").read() for p in (a, b))  # type: ignore[return-value]


def scan_to(inputs: list[Path], out: Path, *extra: str) -> Path:
    """Run ``twicetold scan`` as a user would and return the results folder."""
    from click.testing import CliRunner

    from twicetold.cli import cli

    result = CliRunner().invoke(cli, ["scan", *map(str, inputs), "-o", str(out), "-q", *extra])
    assert result.exit_code == 0, result.output
    return out


@pytest.fixture(scope="session")
def seed_results(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The seeds scanned into a results folder (shared by the report, web and browser tests)."""
    return scan_to([SEEDS], tmp_path_factory.mktemp("seeds") / "results")


@pytest.fixture(scope="session")
def news_results(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The shipped example corpus scanned into a results folder."""
    return scan_to([REPO / "examples" / "news.jsonl"], tmp_path_factory.mktemp("news") / "results")
