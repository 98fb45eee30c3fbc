"""The ``twicetold`` command line: each command parses options, makes one library call and
formats the result. Errors are mapped to exit statuses in one place, ``main``."""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

import click
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn
from rich.table import Table

from . import __version__
from .config import NearConfig, PassageConfig, ReadConfig, ScanConfig, SketchConfig
from .errors import TwicetoldError
from .model import InputProblem
from .outputs import check_destination, write_results
from .pipeline import DedupResult, ScanResult, dedup, scan

F = TypeVar("F", bound=Callable[..., Any])
err = Console(stderr=True, soft_wrap=True)  # messages unwrapped: paths stay whole in logs
INTERRUPTED = 130

STAGE_LABELS = {"read": "reading documents", "align": "aligning pairs"}


def read_options(f: F) -> F:
    """Options shared by every command that reads a corpus."""
    for option in reversed([
        click.option("--format", "fmt", type=click.Choice(["txt", "jsonl", "csv", "tsv", "parquet"]),
                     help="Input format, when the file name does not tell (e.g. standard input)."),
        click.option("--id-column", default="id", show_default=True, help="Column holding the document id."),
        click.option("--text-column", default="text", show_default=True, help="Column holding the text."),
        click.option("--date-column", default="date", show_default=True,
                     help="Column holding the publication date (ISO 8601); used for direction."),
        click.option("--source-column", default="source", show_default=True,
                     help="Column holding the outlet or source name."),
        click.option("--max-chars", default=10_000_000, show_default=True,
                     help="Longer documents are truncated to this many characters, with a warning."),
        click.option("--strict", is_flag=True, help="Stop at the first malformed row instead of skipping it."),
    ]):
        f = option(f)
    return f


def near_options(f: F) -> F:
    """Options of near-duplicate detection."""
    for option in reversed([
        click.option("--threshold", default=0.6, show_default=True,
                     help="Jaccard similarity of word shingles above which documents are near duplicates."),
        click.option("--shingle-size", default=5, show_default=True, help="Words per shingle."),
        click.option("--num-perm", default=128, show_default=True, help="MinHash values per document."),
        click.option("--exact-jaccard", is_flag=True,
                     help="Also compute the exact Jaccard similarity of every reported pair."),
        click.option("--keep", type=click.Choice(["earliest", "longest", "first"]), default="earliest",
                     show_default=True,
                     help="Canonical member of a cluster: earliest date (then input order), longest "
                          "text, or first in input order."),
        click.option("--workers", default=0, show_default=True, help="Worker threads; 0 means all cores."),
    ]):
        f = option(f)
    return f


def _read_config(o: dict[str, Any]) -> ReadConfig:
    return ReadConfig(id_column=o["id_column"], text_column=o["text_column"], date_column=o["date_column"],
                      source_column=o["source_column"], format=o["fmt"], max_chars=o["max_chars"],
                      strict=o["strict"])


def _scan_config(o: dict[str, Any], passages: PassageConfig | None = None) -> ScanConfig:
    return ScanConfig(
        read=_read_config(o),
        sketch=SketchConfig(shingle_size=o["shingle_size"], num_perm=o["num_perm"]),
        near=NearConfig(threshold=o["threshold"], exact_jaccard=o["exact_jaccard"]),
        passages=passages or PassageConfig(),
        keep=o["keep"],
        workers=o["workers"],
    )


@contextmanager
def progress_bar(enabled: bool) -> Iterator[Callable[[str, int, int | None], None]]:
    """A Rich progress bar per stage on standard error, fed by the library's progress callback."""
    if not enabled:
        yield lambda stage, done, total: None
        return
    bar = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                   TimeElapsedColumn(), console=err, transient=True)
    tasks: dict[str, TaskID] = {}

    def update(stage: str, done: int, total: int | None) -> None:
        if stage not in tasks:
            tasks[stage] = bar.add_task(STAGE_LABELS.get(stage, stage), total=total)
        bar.update(tasks[stage], completed=done, total=total)

    with bar:
        yield update


def _print_problems(result: ScanResult) -> None:
    """One line per kind of input problem, with the first places; all are in run.json."""
    by_kind: dict[str, list[InputProblem]] = {}
    for p in result.problems:
        by_kind.setdefault(p.kind, []).append(p)
    for kind, problems in by_kind.items():
        err.print(f"[yellow]warning:[/] {len(problems)} × {kind.replace('_', ' ')} ({problems[0].action})",
                  highlight=False)
        for p in problems[:3]:
            err.print(f"  {p.message}", highlight=False, markup=False)
        if len(problems) > 3:
            err.print(f"  ... and {len(problems) - 3} more, listed in run.json", highlight=False)


def _summary(result: ScanResult, outdir: str) -> None:
    counts = result.run["counts"]
    table = Table(title=f"twicetold scan → {escape(outdir)}", show_header=False, box=None)
    table.add_row("documents", f"{counts['documents']:,}")
    for kind, n in result.pair_counts().items():
        table.add_row(f"{kind} pairs", f"{n:,}")
    table.add_row("reused passages", f"{counts['passages']:,}")
    table.add_row("near-duplicate clusters", f"{counts['clusters']:,} ({counts['documents_in_clusters']:,} docs)")
    table.add_row("time", f"{result.run['timings']['total']:.2f} s")
    Console().print(table)


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="twicetold")
def cli() -> None:
    """Find text that was told twice: near-duplicate documents and reused passages.

    Start with `twicetold scan CORPUS -o results`, then read results/pairs.jsonl.

    Example: twicetold scan examples/news -o results
    """


@cli.command("scan")
@click.argument("inputs", nargs=-1, required=True)
@click.option("-o", "--output", "outdir", required=True, help="Results folder to write.")
@click.option("--force", is_flag=True, help="Replace the results folder if it exists.")
@read_options
@near_options
@click.option("--ngram", default=3, show_default=True, help="Words per anchor n-gram inside an alignment.")
@click.option("--max-df", default=250, show_default=True,
              help="Shingles in more documents than this are boilerplate: they make no candidate pairs.")
@click.option("--min-shared", default=2, show_default=True,
              help="Rare shingles two documents must share to be aligned.")
@click.option("--min-length", default=70, show_default=True,
              help="Shortest passage reported, in aligned characters (span x score, shorter side).")
@click.option("--max-gap", default=12, show_default=True,
              help="Most words without a shared n-gram inside one passage (edits, OCR noise).")
@click.option("--min-score", default=0.5, show_default=True, help="Lowest passage score reported (0-1).")
@click.option("--json", "as_json", is_flag=True, help="Print the run record as JSON instead of a summary.")
@click.option("-q", "--quiet", is_flag=True, help="No progress bar and no summary.")
def scan_cmd(inputs: tuple[str, ...], outdir: str, force: bool, as_json: bool, quiet: bool,
             **options: Any) -> None:
    """Find near-duplicate documents and reused passages in INPUTS, write them to a results folder.

    INPUTS are folders of .txt files, JSON Lines, CSV or Parquet files (.gz and .zst too), or -
    for standard input. The folder gets pairs, clusters and documents tables (.jsonl and
    .parquet) and run.json.

    Example: twicetold scan examples/news -o results
    """
    passages = PassageConfig(ngram=options["ngram"], max_df=options["max_df"], min_shared=options["min_shared"],
                             min_length=options["min_length"], max_gap=options["max_gap"],
                             min_score=options["min_score"])
    cfg = _scan_config(options, passages)
    check_destination(outdir, force)
    with progress_bar(not quiet and not as_json) as progress:
        result = scan(list(inputs), cfg, progress=progress)
    write_results(result, outdir, force=force, parameters=cfg.to_dict(), inputs=list(inputs))
    _print_problems(result)
    if as_json:
        click.echo(json.dumps({"output": outdir, **result.run}, indent=2))
    elif not quiet:
        _summary(result, outdir)


@cli.command("dedup")
@click.argument("input")
@click.option("-o", "--output", required=True, help="Deduplicated corpus to write, in the input's format.")
@click.option("--removed", "removed_path", help="Map of removed ids to kept ids [default: OUTPUT.removed.jsonl].")
@click.option("--force", is_flag=True, help="Replace OUTPUT (and the map) if they exist.")
@read_options
@near_options
@click.option("--json", "as_json", is_flag=True, help="Print counts as JSON.")
@click.option("-q", "--quiet", is_flag=True, help="No progress bar and no summary.")
def dedup_cmd(input: str, output: str, removed_path: str | None, force: bool, as_json: bool, quiet: bool,
              **options: Any) -> None:
    """Write INPUT without its near duplicates: one document per near-duplicate cluster.

    The output keeps the input's format, columns and row order. Which member of a cluster is
    kept follows --keep (default: the earliest by date, then the first in input order).

    Example: twicetold dedup news.jsonl -o news.dedup.jsonl --keep longest
    """
    cfg = _scan_config(options)
    with progress_bar(not quiet and not as_json) as progress:
        res: DedupResult = dedup(input, output, cfg, removed_path=removed_path, force=force, progress=progress)
    _print_problems(res.scan)
    counts = {"documents": len(res.scan.documents), "kept": res.kept, "removed": len(res.removed),
              "output": output, "removed_map": removed_path or f"{output}.removed.jsonl"}
    if as_json:
        click.echo(json.dumps(counts, indent=2))
    elif not quiet:
        click.echo(f"kept {res.kept:,} of {counts['documents']:,} documents; "
                   f"removed {len(res.removed):,} (map: {counts['removed_map']})")


def _run(func: Callable[[], Any]) -> int:
    try:
        func()
    except TwicetoldError as e:
        err.print(f"[red]Error:[/] {escape(e.message)}", highlight=False)  # paths may hold [brackets]
        if e.hint:
            err.print(f"  hint: {escape(e.hint)}", highlight=False)
        return e.exit_code
    except KeyboardInterrupt:
        err.print("interrupted: nothing was written")
        return INTERRUPTED
    except BrokenPipeError:
        return 1
    return 0


def main(argv: list[str] | None = None) -> None:
    """Entry point of the ``twicetold`` console script."""
    run = functools.partial(cli.main, args=argv, prog_name="twicetold", standalone_mode=False)

    def invoke() -> None:
        try:
            rc: Any = run()
        except click.exceptions.Abort:
            raise KeyboardInterrupt from None
        except click.ClickException as e:
            e.show()
            sys.exit(e.exit_code)
        if isinstance(rc, int) and rc:
            sys.exit(rc)

    sys.exit(_run(invoke))

