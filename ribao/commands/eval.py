"""`ribao eval`: references, scores of recorded runs, comparisons against a pinned baseline."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from ribao.commands import cli_errors, command_group, echo_json, parse_date, require_folder

if TYPE_CHECKING:
    from ribao.app.evals import ComparisonReport
    from ribao.evals.experiments import Experiment

#: Exit status of `ribao eval compare --fail-on-regression` when a metric regressed.
REGRESSION_EXIT = 6

eval_app = command_group(no_args_is_help=True)
refs_app = command_group(no_args_is_help=True)
baseline_app = command_group(no_args_is_help=True)
eval_app.add_typer(
    refs_app, name="refs", help="Reference judgements: Hugging Face Daily Papers, graded CSVs."
)
eval_app.add_typer(baseline_app, name="baseline", help="Pin the experiment comparisons default to.")


class RefKind(StrEnum):
    """Which reference the pick metrics use."""

    hf = "hf"
    labels = "labels"
    feedback = "feedback"


JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table")]
RefsOpt = Annotated[
    RefKind,
    typer.Option(
        "--refs", help="Reference: hf (Daily Papers), labels (imported grades), feedback (--profile's)"
    ),
]
ProfileOpt = Annotated[str | None, typer.Option("--profile", help="Reader profile whose likes count")]


def _console() -> Any:
    """A console at least 120 columns wide, so metric names are never cut (pipes default to 80)."""
    from rich.console import Console

    return Console(highlight=False, width=max(Console().width, 120))


def _fmt(value: float | None) -> str:
    from ribao.evals.report import fmt

    return fmt(value)


@refs_app.command("fetch")
def refs_fetch(
    start: Annotated[str, typer.Option("--from", help="First listing day YYYY-MM-DD")],
    end: Annotated[str, typer.Option("--to", help="Last listing day YYYY-MM-DD")],
    archive: Annotated[
        Path | None,
        typer.Option(
            "--archive",
            metavar="DIR",
            help="Read saved days (<featured day>.json, as archived by hf_bot) from DIR, not the network",
        ),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Read Hugging Face Daily Papers for the days these listing days' papers can be featured on."""
    from ribao.app.eval_store import fetch_references

    first, last = parse_date(start, flag="--from"), parse_date(end, flag="--to")
    with cli_errors():
        require_folder(archive, "--archive")
        days = fetch_references(first, last, archive=archive)
    if as_json:
        echo_json([{"date": d.date, "papers": len(d.papers), "read_at": d.read_at} for d in days])
        return
    for d in days:
        typer.echo(f"{d.date}  {len(d.papers):3d} featured paper(s), read {d.read_at:%Y-%m-%d %H:%M} UTC")


@refs_app.command("import")
def refs_import(
    file: Annotated[Path, typer.Argument(help="CSV of arxiv_id,grade (grade 0-3; 1 or more is relevant)")],
    as_json: JsonOpt = False,
) -> None:
    """Import hand-labelled grades (a later import wins for the same paper)."""
    from ribao.app.eval_store import import_references

    with cli_errors():
        grades = import_references(file)
    relevant = sum(1 for g in grades.values() if g >= 1)
    if as_json:
        echo_json({"imported": len(grades), "relevant": relevant})
        return
    typer.echo(f"imported {len(grades)} grade(s), {relevant} relevant")


@eval_app.command("score")
def score(
    runs: Annotated[list[str], typer.Argument(help="Run ids, unique prefixes, or latest")],
    refs: RefsOpt = RefKind.hf,
    profile: ProfileOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Compute the metrics of recorded runs as they ran (no model call)."""
    from ribao.app.evals import score_runs
    from ribao.settings import load_settings

    with cli_errors():
        settings = load_settings()
        scores = score_runs(settings.home, runs, kind=refs.value, profile=profile, url=settings.store.url)
    if as_json:
        echo_json([s.as_json() for s in scores])
        return
    from rich.table import Table

    table = Table("metric", *(s.run_id[:10] for s in scores))
    names = list(dict.fromkeys(name for s in scores for name in s.tallies))
    for name in names:
        table.add_row(name, *(_fmt(s.values().get(name)) for s in scores))
    console = _console()
    for s in scores:
        ref = s.reference
        console.print(
            f"{s.run_id} {s.date}: reference {ref['source']}, "
            f"{ref['papers']} paper(s) among the candidates, {ref['ignored']} ignored",
            soft_wrap=True,
        )
    console.print(table)


@eval_app.command("compare")
def compare(
    base: Annotated[str, typer.Argument(help="Experiment (id, prefix, name), baseline, or a run id")],
    new: Annotated[str, typer.Argument(help="Experiment (id, prefix, name), baseline, or a run id")],
    refs: RefsOpt = RefKind.hf,
    profile: ProfileOpt = None,
    fail_on_regression: Annotated[
        bool, typer.Option("--fail-on-regression", help=f"Exit {REGRESSION_EXIT} when a metric regressed")
    ] = False,
    regressions_only: Annotated[
        bool, typer.Option("--regressions-only", help="Show only regressed rows")
    ] = False,
    html: Annotated[
        Path | None, typer.Option("--html", help="Also write the HTML report to this file")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Compare two versions over the days both have: metric, base, new, delta, paired interval."""
    from ribao.app.evals import compare_versions, write_report
    from ribao.settings import load_settings

    with cli_errors():
        settings = load_settings()
        report = compare_versions(
            settings.home, base, new, kind=refs.value, profile=profile, url=settings.store.url
        )
        if html is not None:
            write_report(report, html)
    rows = report.table.regressions if regressions_only else report.table.rows
    if as_json:
        echo_json(_comparison_json(report, rows))
    else:
        _show_comparison(report, rows)
    if fail_on_regression and report.table.regressions:
        raise typer.Exit(REGRESSION_EXIT)


def _comparison_json(report: ComparisonReport, rows: list[Any]) -> dict[str, Any]:
    return {
        "base": report.base.label,
        "new": report.new.label,
        "days": report.table.days,
        "reference": next(iter(report.scores.values())).reference if report.scores else None,
        "regressions": [r.metric for r in report.table.regressions],
        "rows": [
            {
                "metric": r.metric,
                "base": r.base,
                "new": r.new,
                "delta": r.delta,
                "interval": list(r.interval) if r.interval else None,
                "better": r.better,
                "units": r.units,
                "regression": r.regression,
            }
            for r in rows
        ],
    }


def _show_comparison(report: ComparisonReport, rows: list[Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console(highlight=False)
    console.print(
        f"base {report.base.label} → new {report.new.label}, {len(report.table.days)} day(s)", soft_wrap=True
    )
    table = Table("metric", "base", "new", "delta", "95% interval", "")
    for r in rows:
        interval = f"[{_fmt(r.interval[0])}, {_fmt(r.interval[1])}]" if r.interval else "n/a"
        mark = "REGRESSION" if r.regression else ""
        table.add_row(r.metric, _fmt(r.base), _fmt(r.new), _fmt(r.delta), interval, mark)
    console.print(table)
    found = report.table.regressions
    console.print(
        f"{len(found)} regression(s): {', '.join(r.metric for r in found)}" if found else "no regression"
    )


def _experiment_json(exp: Experiment, pinned: str | None = None) -> dict[str, Any]:
    return {**exp.model_dump(mode="json"), "baseline": exp.id == pinned}


@eval_app.command("list")
def list_(as_json: JsonOpt = False) -> None:
    """List the experiments on record, oldest first; the pinned baseline is marked."""
    from ribao.app.eval_store import list_experiments

    with cli_errors():
        found, pinned = list_experiments()
    if as_json:
        echo_json([_experiment_json(e, pinned) for e in found])
        return
    if not found:
        typer.echo("no experiments yet: `ribao eval run` or `ribao eval baseline pin RUN…` records one")
    for e in found:
        mark = "*" if e.id == pinned else " "
        typer.echo(f"{mark} {e.id}  {e.created_at:%Y-%m-%d %H:%M}  {e.name or '-'}  {len(e.runs)} run(s)")


@baseline_app.command("pin")
def baseline_pin(
    refs: Annotated[list[str], typer.Argument(help="An experiment (id, prefix, name, latest), or run ids")],
    as_json: JsonOpt = False,
) -> None:
    """Pin an experiment as the baseline (or the runs named, as they ran); it stays until pinned again."""
    from ribao.app.eval_store import pin_baseline

    with cli_errors():
        exp = pin_baseline(refs)
    if as_json:
        echo_json(_experiment_json(exp, exp.id))
        return
    typer.echo(f"baseline: {exp.label}")


@baseline_app.command("show")
def baseline_show(as_json: JsonOpt = False) -> None:
    """Show the pinned baseline."""
    from ribao.app.eval_store import show_baseline

    with cli_errors():
        exp = show_baseline()
    if as_json:
        echo_json(_experiment_json(exp, exp.id))
        return
    typer.echo(f"baseline: {exp.label}, created {exp.created_at:%Y-%m-%d %H:%M}, {len(exp.runs)} run(s)")
