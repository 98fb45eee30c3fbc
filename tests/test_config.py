"""The configuration of each stage: defaults, validation in the constructor (``ConfigError``,
exit status 2, with a hint where one helps), and the record ``run.json`` keeps."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from twicetold.config import NearConfig, PassageConfig, ReadConfig, ScanConfig, SketchConfig
from twicetold.errors import ConfigError


@pytest.mark.parametrize(("make", "words"), [
    (lambda: ReadConfig(format="docx"), "unknown input format 'docx'"),
    (lambda: ReadConfig(max_chars=0), "max_chars must be positive"),
    (lambda: SketchConfig(shingle_size=0), "shingle_size must be 1..32"),
    (lambda: SketchConfig(num_perm=100), "num_perm must be a power of two"),
    (lambda: NearConfig(threshold=0.0), "threshold must be in (0, 1]"),
    (lambda: NearConfig(threshold=1.5), "threshold must be in (0, 1]"),
    (lambda: PassageConfig(ngram=0), "passage ngram must be 1..16"),
    (lambda: PassageConfig(max_df=1), "max_df must be at least 2"),
    (lambda: PassageConfig(min_length=0), "min_length must be positive"),
    (lambda: PassageConfig(min_evidence=-1), "min_evidence must be >= 0"),
    (lambda: PassageConfig(min_score=1.5), "min_score must be in [0, 1]"),
    (lambda: PassageConfig(cluster_overlap=0.0), "cluster_overlap must be in (0, 1]"),
    (lambda: PassageConfig(boilerplate_min_docs=1), "boilerplate_min_docs must be >= 2"),
    (lambda: ScanConfig(keep="newest"), "unknown keep rule 'newest'"),  # type: ignore[arg-type]
    (lambda: ScanConfig(workers=-1), "workers must be >= 0"),
    (lambda: ScanConfig(memory_budget_mb=-1), "memory budget must be >= 0 MB"),
    (lambda: ScanConfig(temp_dir="/no/such/folder"), "the temporary folder /no/such/folder does not exist"),
])
def test_bad_values_are_a_config_error_naming_the_value(make: Any, words: str) -> None:
    with pytest.raises(ConfigError) as caught:
        make()
    assert words in caught.value.message and caught.value.exit_code == 2
    assert isinstance(caught.value, ValueError)  # a library caller may catch it as one


def test_hints_say_what_to_try() -> None:
    with pytest.raises(ConfigError) as caught:
        SketchConfig(num_perm=100)
    assert caught.value.hint == "try 64, 128 or 256"
    with pytest.raises(ConfigError) as caught:
        ScanConfig(keep="newest")  # type: ignore[arg-type]
    assert caught.value.hint == "use earliest, longest or first"


def test_defaults_and_derived_values(tmp_path: Path) -> None:
    cfg = ScanConfig()
    assert (cfg.sketch.shingle_size, cfg.sketch.num_perm, cfg.near.threshold) == (5, 128, 0.6)
    assert (cfg.passages.min_evidence, cfg.passages.min_length, cfg.passages.max_df, cfg.passages.ngram) \
        == (80.0, 25, 250, 3)
    assert cfg.n_workers >= 1 and cfg.memory_budget > 0
    assert ScanConfig(workers=3).n_workers == 3
    assert ScanConfig(memory_budget_mb=5).memory_budget == 5 * 2**20
    assert ScanConfig(temp_dir=str(tmp_path)).temp_dir == str(tmp_path)


def test_the_record_is_json_and_rebuilds_the_config() -> None:
    cfg = ScanConfig(near=NearConfig(threshold=0.5), passages=PassageConfig(min_length=40), keep="longest")
    record = json.loads(json.dumps(cfg.to_dict()))
    rebuilt = ScanConfig(read=ReadConfig(**record["read"]), sketch=SketchConfig(**record["sketch"]),
                         near=NearConfig(**record["near"]), passages=PassageConfig(**record["passages"]),
                         keep=record["keep"], workers=record["workers"], memory_budget_mb=record["memory_budget_mb"],
                         temp_dir=record["temp_dir"])
    assert rebuilt == cfg


def test_a_config_error_through_the_cli_is_exit_status_2(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    from twicetold.cli import main

    news = Path(__file__).resolve().parents[1] / "examples" / "news"
    with pytest.raises(SystemExit) as stopped:
        main(["scan", str(news), "-o", str(tmp_path / "results"), "--threshold", "1.5", "-q"])
    assert stopped.value.code == 2
    err = capsys.readouterr().err
    assert "threshold must be in (0, 1]" in err and "Traceback" not in err
    assert list(tmp_path.iterdir()) == []


def test_library_hints_name_settings_as_python_does_and_the_cli_as_options() -> None:
    """Library errors are neutral: a Python caller is told force=True, not to pass --force;
    the command line shows the option. Every setting a hint names has both forms."""
    from twicetold.errors import SETTINGS, OutputError

    e = OutputError("results already exists", "replace it with {force}, or choose another path")
    assert e.hint == "replace it with force=True, or choose another path"
    assert e.cli_hint() == "replace it with --force, or choose another path"
    assert "force=True" in str(e) and "--force" not in str(e)
    assert OutputError("x", "a {literal} brace stays").hint == "a {literal} brace stays"
    assert all(python and cli.startswith("--") for python, cli in SETTINGS.values())
