from __future__ import annotations

import os
from pathlib import Path
from typing import NoReturn

import pytest

from twicetold.testing.evaluation import shared_folder

REPO = Path(__file__).resolve().parents[1]
SHARED = shared_folder(REPO)
SEEDS = SHARED / "seeds"
DATA = SHARED / "data"


def skip_or_fail(reason: str) -> NoReturn:
    """Skip a test that cannot run here, or fail it when ``CI=true``: CI must run them all."""
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason} (CI=true: these tests must run)", pytrace=False)
    pytest.skip(reason)


def shared_missing() -> str | None:
    """Why the shared data cannot be used, or None when it can."""
    missing = [str(p) for p in (SEEDS, DATA) if not p.is_dir()]
    if not missing:
        return None
    return (f"../shared/ not found (no {' or '.join(missing)}): the seeds and labelled data live "
            "beside the repository, in a folder named shared/ (TWICETOLD_SHARED may name another)")


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The shared folder (``SEEDS``, ``DATA``). Every test that reads it asks for this fixture,
    directly, through another fixture or with ``@pytest.mark.usefixtures("shared_data")``:
    without the folder the test is skipped with the reason, or failed when ``CI=true``."""
    reason = shared_missing()
    if reason:
        skip_or_fail(reason)
    return SHARED


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "shared_data: reads ../shared/ (set on every test that asks for the "
                                       "shared_data fixture, so -m 'not shared_data' leaves them out)")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "shared_data" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.shared_data)


@pytest.fixture(scope="session")
def seed_texts(shared_data: Path) -> tuple[str, str]:
    """The two seed articles, read as twicetold reads them (UTF-8, no newline translation)."""
    a, b = sorted(SEEDS.glob("*.txt"))
    return tuple(open(p, encoding="utf-8", newline="").read() for p in (a, b))  # type: ignore[return-value]


@pytest.fixture(scope="session")
def seed_passage(seed_texts: tuple[str, str]) -> dict[str, tuple[int, int]]:
    """Where the founding example's shared passage lies in each seed, by document id: from
    "Separately, Syrian authorities" to "fired at very close range." (the offsets contract).
    Tests compare the offsets they get with these, rather than each finding them again."""
    first, last = "Separately, Syrian authorities", "fired at very close range."
    ids = [p.stem for p in sorted(SEEDS.glob("*.txt"))]
    return {doc: (text.index(first), text.index(last) + len(last)) for doc, text in zip(ids, seed_texts, strict=True)}


def scan_to(inputs: list[Path], out: Path, *extra: str) -> Path:
    """Run ``twicetold scan`` as a user would and return the results folder."""
    from click.testing import CliRunner

    from twicetold.cli import cli

    result = CliRunner().invoke(cli, ["scan", *map(str, inputs), "-o", str(out), "-q", *extra])
    assert result.exit_code == 0, result.output
    return out


@pytest.fixture(scope="session")
def seed_results(tmp_path_factory: pytest.TempPathFactory, shared_data: Path) -> Path:
    """The seeds scanned into a results folder (shared by the report, web and browser tests)."""
    return scan_to([SEEDS], tmp_path_factory.mktemp("seeds") / "results")


@pytest.fixture(scope="session")
def news_results(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The shipped example corpus scanned into a results folder."""
    return scan_to([REPO / "examples" / "news.jsonl"], tmp_path_factory.mktemp("news") / "results")
