"""The ``twicetold`` command line: each command parses options, makes one library call and
formats the result. Errors are mapped to exit statuses in one place, ``main``."""

from __future__ import annotations

import atexit
import functools
import gc
import json
import os
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict
from typing import Any, TypeVar

import click
from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table
from rich.text import Text

from . import __version__
from .atomic import check_destination
from .config import NearConfig, PassageConfig, ReadConfig, ScanConfig, SketchConfig
from .dedup import dedup
from .errors import TwicetoldError
from .explain import explain
from .model import DedupResult, InputProblem, ScanResult, jsonable
from .outputs import write_results
from .plan import scan

F = TypeVar("F", bound=Callable[..., Any])
err = Console(stderr=True, soft_wrap=True)  # messages unwrapped: paths stay whole in logs
INTERRUPTED = 130
TERMINATED = 128 + signal.SIGTERM

STAGE_LABELS = {"compile": "compiling kernels (first run only)",
                "read": "reading and sketching documents", "near_duplicates": "near duplicates",
                "clusters": "clustering", "candidates": "candidate pairs", "align": "aligning pairs",
                "passage_clusters": "passage clusters"}


class RateColumn(ProgressColumn):
    """Items per second of a stage (documents read, pairs aligned)."""

    def render(self, task: Task) -> Text:
        speed = task.finished_speed or task.speed
        return Text(f"{speed:,.0f}/s" if speed and task.total != 1 else "", style="progress.data.speed")


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
        click.option("--workers", default=0, show_default=True, help="Worker threads; 0 means all cores."),
    ]):
        f = option(f)
    return f


def keep_option(f: F) -> F:
    """Which member of a near-duplicate cluster is canonical (the commands that make clusters)."""
    return click.option("--keep", type=click.Choice(["earliest", "longest", "first"]), default="earliest",
                        show_default=True,
                        help="Canonical member of a cluster: earliest date (then input order), longest "
                             "text, or first in input order.")(f)


def memory_options(f: F) -> F:
    """Options of the commands that search passages across a whole corpus (scan, explain)."""
    for option in reversed([
        click.option("--memory-budget", default=0, show_default=True, metavar="MB",
                     help="Megabytes of shingles and postings held in memory: shingles beyond it spill to "
                          "temporary files, postings are made in passes. 0 means a quarter of this machine's "
                          "memory."),
        click.option("--temp-dir", type=click.Path(file_okay=False),
                     help="Folder for temporary files (texts of compressed inputs, spilled shingles) "
                          "[default: the system's]."),
    ]):
        f = option(f)
    return f


def passage_options(f: F) -> F:
    """Options of passage finding (an index stores them when it is created)."""
    for option in reversed([
        click.option("--anchors", type=click.Choice(["auto", "words", "letters"]), default="auto", show_default=True,
                     help="What alignment anchors on: word n-grams, or letters alone with a character-level "
                          "alignment (for OCR'd text: split and merged words, misread letters); auto: letters "
                          "when lines break inside hyphenated words, as in OCR'd print."),
        click.option("--ngram", default=3, show_default=True, help="Words per anchor n-gram inside an alignment."),
        click.option("--max-df", default=250, show_default=True,
                     help="Shingles in more documents than this are boilerplate: they make no candidate pairs."),
        click.option("--min-shared", default=2, show_default=True,
                     help="Rare shingles two documents must share to be aligned."),
        click.option("--min-evidence", default=80.0, show_default=True,
                     help="Least evidence of reuse a passage must carry: aligned characters (span x score, "
                          "shorter side) weighted up to 1.25 times by the rarity of its shared words."),
        click.option("--min-length", default=25, show_default=True,
                     help="Floor: shortest passage reported, in aligned characters, whatever its evidence."),
        click.option("--max-gap", default=12, show_default=True,
                     help="Most words without a shared n-gram inside one passage (edits, OCR noise)."),
        click.option("--min-score", default=0.5, show_default=True, help="Lowest passage score reported (0-1)."),
        click.option("--boilerplate-share", default=0.5, show_default=True,
                     help="Passages in at least this share of one source's documents (or of the corpus, when "
                          "they also recur within sources) are boilerplate."),
        click.option("--boilerplate-min-docs", default=3, show_default=True,
                     help="Fewest documents a passage must recur in to count as boilerplate."),
        click.option("--keep-boilerplate", is_flag=True,
                     help="Report boilerplate passages too (flagged by their score)."),
    ]):
        f = option(f)
    return f


PASSAGE_OPTIONS = ("anchors", "ngram", "max_df", "min_shared", "min_evidence", "min_length", "max_gap", "min_score",
                   "boilerplate_share", "boilerplate_min_docs", "keep_boilerplate")


def _passage_config(o: dict[str, Any]) -> PassageConfig:
    return PassageConfig(**{k: o[k] for k in PASSAGE_OPTIONS})


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
        keep=o.get("keep", "earliest"),
        workers=o["workers"],
        memory_budget_mb=o.get("memory_budget", 0),
        temp_dir=o.get("temp_dir"),
    )


@contextmanager
def progress_bar(enabled: bool) -> Iterator[Callable[[str, int, int | None], None]]:
    """A Rich progress bar per stage on standard error, fed by the library's progress callback."""
    if not enabled:
        yield lambda stage, done, total: None
        return
    if not err.is_terminal:
        # No bar in a log or a pipe: only a line for the one long silence a user would
        # otherwise take for a hang.
        said: set[str] = set()

        def note(stage: str, done: int, total: int | None) -> None:
            if stage == "compile" and stage not in said:
                said.add(stage)
                err.print("compiling kernels (first run only)...", highlight=False)

        yield note
        return
    bar = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), RateColumn(),
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
@keep_option
@passage_options
@memory_options
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
    cfg = _scan_config(options, _passage_config(options))
    check_destination(outdir, force, inputs, is_dir=True)
    with progress_bar(not quiet and not as_json) as progress:
        result = scan(list(inputs), cfg, progress=progress)
    # Absolute paths, so the report and the web app can re-read the texts from anywhere.
    absolute = [i if i == "-" else os.path.abspath(i) for i in inputs]
    write_results(result, outdir, force=force, parameters=cfg.to_dict(), inputs=absolute, workers=cfg.n_workers)
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
@keep_option
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


OP_STYLE = {"equal": "", "replace": "bold yellow", "delete": "bold red", "insert": "bold green"}


@cli.command("explain")
@click.argument("inputs", nargs=-1, required=True)
@click.option("--pair", nargs=2, required=True, metavar="A B", help="The two document ids to explain.")
@read_options
@near_options
@keep_option
@passage_options
@memory_options
@click.option("--json", "as_json", is_flag=True, help="Print the explanation as JSON.")
def explain_cmd(inputs: tuple[str, ...], pair: tuple[str, str], as_json: bool, **options: Any) -> None:
    """Say why two documents were or were not paired: each stage's verdict, the passages with
    their differences marked, and the filter that dropped any passage.

    Run it with the options of the scan it should explain (the defaults if none).

    Example: twicetold explain examples/news --pair harbor-times/2026-03-04-port-strike
    meridian-wire/2026-03-04-port-strike
    """
    cfg = _scan_config(options, _passage_config(options))
    e = explain(list(inputs), pair[0], pair[1], cfg)
    if as_json:
        click.echo(json.dumps(jsonable(asdict(e) | {"dropped_at": e.dropped_at}), indent=2, ensure_ascii=False))
        return
    out = Console(soft_wrap=True)
    verdict = f"reported as {e.pair.kind}" if e.pair else f"not reported: dropped at {e.dropped_at}"
    out.print(f"[bold]{escape(e.a)}[/] and [bold]{escape(e.b)}[/]: {verdict}")
    for v in e.verdicts:
        mark = "[green]✓[/]" if v.passed else "[red]✗[/]"
        out.print(f"  {mark} {v.stage:<11} {escape(v.detail)}")
    if e.pair:
        for x, diff in zip(e.pair.passages, e.differences, strict=True):
            out.print(f"\n[bold]passage[/] a[{x.a_start}:{x.a_end}] b[{x.b_start}:{x.b_end}] score {x.score}"
                      + (" (shared quotation)" if x.quoted else ""))
            text = Text()
            for d in diff:
                if d.op == "equal":
                    text.append(d.a)
                else:
                    if d.a:
                        text.append(f"[-{d.a}-]", style=OP_STYLE["delete"])
                    if d.b:
                        text.append(f"{{+{d.b}+}}", style=OP_STYLE["insert"])
            out.print(text)
    for x, why in e.dropped_passages:
        out.print(f"  dropped a[{x.a_start}:{x.a_end}] b[{x.b_start}:{x.b_end}]: {escape(why)}")


# ---------------------------------------------------------------- index and query


def _check_matching_options(index_path: str, stored: ScanConfig) -> None:
    """Refuse matching options typed on the command line that differ from the index's own:
    an index keeps the configuration it was created with (its postings and sketches depend on it)."""
    from .errors import ConfigError

    have = {"threshold": stored.near.threshold, "exact_jaccard": stored.near.exact_jaccard,
            "shingle_size": stored.sketch.shingle_size, "num_perm": stored.sketch.num_perm,
            **{k: getattr(stored.passages, k) for k in PASSAGE_OPTIONS}}
    ctx = click.get_current_context()
    differ = [f"--{name.replace('_', '-')} {value} (the index has {have[name]})"
              for name, value in ctx.params.items()
              if name in have and ctx.get_parameter_source(name) is click.core.ParameterSource.COMMANDLINE
              and value != have[name]]
    if differ:
        raise ConfigError(f"{index_path} was created with other matching options: {'; '.join(differ)}",
                          "an index keeps the options it was created with: leave them out, "
                          "or create a new index under another name")


@cli.group("index")
def index_group() -> None:
    """Build and look after a persistent index that texts can be queried against.

    An index is one SQLite file holding the documents, their sketches and shingle postings.
    `index add` creates it or adds a batch; `twicetold query INDEX FILE` then shows where a
    text was copied from. Several processes can query it while one adds.

    Example: twicetold index add news.twicetold examples/news
    """


@index_group.command("add")
@click.argument("index_path", metavar="INDEX")
@click.argument("inputs", nargs=-1, required=True)
@read_options
@near_options
@passage_options
@click.option("--timeout", default=30.0, show_default=True,
              help="Seconds to wait while another process writes to the index.")
@click.option("--json", "as_json", is_flag=True, help="Print what was added as JSON.")
@click.option("-q", "--quiet", is_flag=True, help="No progress bar and no summary.")
def index_add_cmd(index_path: str, inputs: tuple[str, ...], timeout: float, as_json: bool, quiet: bool,
                  **options: Any) -> None:
    """Add the documents of INPUTS to INDEX as one batch; create INDEX if it does not exist.

    INPUTS are read as `scan` reads them. The batch is one transaction: an add that fails or
    is interrupted leaves INDEX as it was (the first one leaves no INDEX), and a document id
    already in INDEX stops it. The
    matching options (--threshold, --shingle-size, --num-perm, --ngram, --max-df, ...) are
    stored in INDEX when it is created and used by every later add and query; read options
    apply to this add only.

    Example: twicetold index add news.twicetold examples/news --date-column published
    """
    from .index import Index

    cfg = _scan_config(options, _passage_config(options))
    # The library puts a new index in place only with its first batch, so a failed first add
    # leaves none and nothing is ever deleted here (that lost other processes' batches).
    with progress_bar(not quiet and not as_json) as progress:
        index, result = Index.add_or_create(index_path, list(inputs), cfg, cfg.read, timeout=timeout,
                                            progress=progress, workers=cfg.workers,
                                            check=lambda stored: _check_matching_options(index_path, stored))
    with index:
        total = len(index)
    _print_problems(ScanResult([], [], [], result.problems))
    summary = {"index": index_path, "created": result.created, "batch": result.batch, "added": result.added,
               "documents": total, "input_problems": len(result.problems), "seconds": result.seconds}
    if as_json:
        click.echo(json.dumps(summary, indent=2))
    elif not quiet:
        click.echo(f"added {result.added:,} documents to {index_path} (batch {result.batch}, "
                   f"{result.seconds:.1f} s); it holds {total:,}")


@index_group.command("stats")
@click.argument("index_path", metavar="INDEX")
@click.option("--json", "as_json", is_flag=True, help="Print the figures as JSON.")
def index_stats_cmd(index_path: str, as_json: bool) -> None:
    """Show what INDEX holds: documents, batches, postings, size on disk and its configuration.

    Example: twicetold index stats news.twicetold --json
    """
    from .index import Index

    with Index.open(index_path) as index:
        stats = index.stats()
    if as_json:
        click.echo(json.dumps(stats.to_dict(), indent=2))
        return
    table = Table(title=f"twicetold index {escape(index_path)}", show_header=False, box=None)
    table.add_row("documents", f"{stats.documents:,}")
    table.add_row("batches", f"{stats.batches:,} (last added {stats.last_added_at or 'never'})")
    table.add_row("shingle postings", f"{stats.postings:,}")
    table.add_row("size on disk", f"{stats.size_bytes / 2**20:,.1f} MiB")
    table.add_row("created", f"{stats.created_at} (schema version {stats.schema_version})")
    for part in ("sketch", "near", "passages"):
        table.add_row(part, escape(", ".join(f"{k}={v}" for k, v in stats.config[part].items())))
    Console().print(table)


@index_group.command("remove")
@click.argument("index_path", metavar="INDEX")
@click.argument("ids", nargs=-1, required=True)
@click.option("--timeout", default=30.0, show_default=True,
              help="Seconds to wait while another process writes to the index.")
@click.option("--json", "as_json", is_flag=True, help="Print the count as JSON.")
def index_remove_cmd(index_path: str, ids: tuple[str, ...], timeout: float, as_json: bool) -> None:
    """Remove the documents with these IDS from INDEX, in one transaction.

    An id that INDEX does not hold is an error, and then nothing is removed.

    Example: twicetold index remove news.twicetold harbor-times/0012 valley-post/0040
    """
    from .index import Index

    with Index.open(index_path, timeout=timeout) as index:
        removed = index.remove(ids)
        total = len(index)
    if as_json:
        click.echo(json.dumps({"index": index_path, "removed": removed, "documents": total}, indent=2))
    else:
        click.echo(f"removed {removed:,} documents from {index_path}; it holds {total:,}")


@cli.command("query")
@click.argument("index_path", metavar="INDEX")
@click.argument("file", metavar="FILE|-")
@click.option("--limit", type=click.IntRange(min=1), help="Show at most this many documents, the best first.")
@click.option("--id", "query_id", default="query", show_default=True, help="Id the text goes by in the pairs.")
@click.option("--date", help="Date of the text (ISO 8601): decides which side of each pair is the earlier.")
@click.option("--json", "as_json", is_flag=True,
              help="Print the pairs as JSON, with the fields of the pairs table (see the README).")
def query_cmd(index_path: str, file: str, limit: int | None, query_id: str, date: str | None,
              as_json: bool) -> None:
    """Find the indexed documents that share text with FILE (- for standard input).

    Shows each document with its relation to the text (exact copy, near duplicate, or partial:
    shares passages), the estimated Jaccard similarity, and every reused passage with its
    offsets in both texts; best first (exact, near, then by length of reused text). These are
    the pairs `scan` would report for the text against the indexed documents.

    Example: twicetold query news.twicetold article.txt --limit 5
    """
    from dataclasses import asdict

    from .index import Index, read_text

    text = read_text(file)
    with Index.open(index_path) as index:
        pairs = index.query(text, id=query_id, date=date, limit=limit)
    if as_json:
        click.echo(json.dumps({"index": index_path, "query": {"id": query_id, "length": len(text)},
                               "pairs": [asdict(p) for p in pairs]}, indent=2, ensure_ascii=False))
        return
    if not pairs:
        click.echo(f"no indexed document shares text with {file}")
        return
    for rank, pair in enumerate(pairs, start=1):
        query_is_a = pair.a == query_id
        other = pair.b if query_is_a else pair.a
        click.echo(f"{rank}. {other}: {pair.kind}, jaccard {pair.jaccard:.2f}, {len(pair.passages)} passage(s)")
        for p in pair.passages:
            q0, q1, d0, d1 = (p.a_start, p.a_end, p.b_start, p.b_end) if query_is_a else \
                (p.b_start, p.b_end, p.a_start, p.a_end)
            snippet = " ".join(text[q0:q1].split())
            snippet = snippet if len(snippet) <= 100 else snippet[:97] + "..."
            click.echo(f"   text[{q0}:{q1}] = {other}[{d0}:{d1}], {p.length:,} chars, score {p.score:.2f}")
            click.echo(f"     {snippet}")


@cli.command("report")
@click.argument("outdir")
@click.option("-o", "--output", help="HTML file to write [default: OUTDIR/report.html].")
@click.option("--max-pairs", default=100, show_default=True, type=click.IntRange(min=0),
              help="Pairs shown side by side, the largest first; keeps a big run's report small enough to open.")
def report_cmd(outdir: str, output: str | None, max_pairs: int) -> None:
    """Write a self-contained HTML report of a results folder (one file, nothing fetched).

    Summary figures, cluster size plots, the largest passage clusters with their spread over
    time and outlets, per-source statistics with a who-reuses-whom matrix, and the largest
    pairs side by side with the reused passages highlighted and word differences marked.
    Texts are re-read from the scan's inputs; if those are gone, the passages recorded in
    OUTDIR are shown instead.

    Example: twicetold report results -o results/report.html
    """
    from .report import write_report

    path = write_report(outdir, output, max_pairs=max_pairs)
    click.echo(f"wrote {path}")


@cli.command("serve")
@click.argument("outdir", required=False)
@click.option("--index", "index_path", metavar="INDEX",
              help="Index to look pasted or uploaded texts up in (built by twicetold index add).")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on; the default keeps the server local (0.0.0.0 opens it to the network).")
@click.option("--port", default=8765, show_default=True, type=click.IntRange(0, 65535), help="Port to listen on.")
@click.option("--max-upload-mb", default=5.0, show_default=True, type=click.FloatRange(min=0, min_open=True),
              help="Largest text accepted from the paste-or-upload form and the API, in megabytes.")
@click.option("--get", "get_path", metavar="PATH",
              help="Send one GET request for PATH through the app in-process, print the body and exit "
                   "(status 1 unless the answer is 200); starts no server.")
def serve_cmd(outdir: str | None, index_path: str | None, host: str, port: int, max_upload_mb: float,
              get_path: str | None) -> None:
    """Browse a results folder and look texts up in an index, in a local web application.

    OUTDIR is a folder written by `twicetold scan` (clusters, sources, documents, pairs side by
    side); --index adds the "where was this copied from?" form. Give either or both. Every page
    has a JSON twin (add .json to its path) and /openapi.json documents the API.

    Example: twicetold serve results --index news.twicetold
    """
    from . import web

    if outdir is None and index_path is None:
        raise click.UsageError("give a results folder (OUTDIR), an index (--index), or both")
    app = web.create_app(outdir, index_path, max_upload_bytes=int(max_upload_mb * 1024 * 1024))
    if get_path is not None:
        status, _, body = web.get(app, get_path)
        click.echo(body.decode("utf-8", errors="replace"))
        if status != 200:
            raise click.exceptions.Exit(1)
        return
    if host not in ("127.0.0.1", "localhost", "::1"):
        err.print(f"[yellow]warning:[/] listening on {escape(host)}: anyone who can reach this machine can "
                  "read the texts and use the server", highlight=False)
    err.print(f"serving {escape(web.describe(app))} at http://{escape(host)}:{port}/ (Ctrl-C stops)",
              highlight=False)
    web.serve(app, host, port)


class Terminated(KeyboardInterrupt):
    """SIGTERM (a time limit, Slurm, ``docker stop``), raised in the main thread so that a
    terminated run cleans up exactly as an interrupted one does."""


_signals: list[int] = []  # click turns KeyboardInterrupt into Abort: remember which signal it was


def _terminate(signum: int, frame: object) -> None:
    _signals.append(signum)
    raise Terminated()


def _run(func: Callable[[], Any]) -> int:
    try:
        func()
    except TwicetoldError as e:
        err.print(f"[red]Error:[/] {escape(e.message)}", highlight=False)  # paths may hold [brackets]
        if e.hint:
            err.print(f"  hint: {escape(e.cli_hint() or '')}", highlight=False)
        return e.exit_code
    except KeyboardInterrupt as e:
        if isinstance(e, Terminated) or signal.SIGTERM in _signals:
            err.print("terminated: nothing was written")
            return TERMINATED
        err.print("interrupted: nothing was written")
        return INTERRUPTED
    except BrokenPipeError:
        return 1
    return 0


def main(argv: list[str] | None = None) -> None:
    """Entry point of the ``twicetold`` console script."""
    # At exit, the interpreter's last garbage collection would walk every object the run
    # made (a quarter of a second after a large scan), none of them in a cycle left to collect.
    atexit.register(gc.freeze)
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _terminate)
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

