"""The `ribao` command: parse flags, call one library function, render the outcome."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import os
from importlib import resources
from pathlib import Path
from typing import Annotated, Any

import typer

# onnxruntime (a chromadb dependency) sends telemetry unless this is set before it is imported.
os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

from ribao.commands.config import config_app, graph  # noqa: E402
from ribao.commands.prompts import prompts_app  # noqa: E402
from ribao.errors import RibaoError  # noqa: E402

app = typer.Typer(
    help="ArXiv AI 日报: screen one arXiv announcement day with four LLM agents and write a Chinese digest.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.add_typer(
    prompts_app, name="prompts", help="List, show, edit, diff, reset and check the agents' prompt files."
)
app.add_typer(config_app, name="config", help="Show the effective settings and where each came from.")
app.command("graph")(graph)

SAMPLE_DATE = dt.date(2026, 2, 18)


def sample_listing() -> Path:
    """Return the bundled real listing of 2026-02-18 (180 papers in cs.CL/cs.AI/cs.LG)."""
    return Path(str(resources.files("ribao") / "data" / f"{SAMPLE_DATE.isoformat()}.cs.jsonl"))


def _parse_date(value: str | None) -> dt.date | None:
    if value is None or value == "latest":
        return None  # the listing's own day, or for the API the latest announcement day
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(f"expected YYYY-MM-DD, got {value!r}") from None


def _categories(value: str | None) -> list[str] | None:
    return [c.strip() for c in value.split(",") if c.strip()] if value else None


DateOpt = Annotated[
    str | None,
    typer.Option(
        "--date",
        help="Announcement day YYYY-MM-DD, or latest [default: the file's day; for the API the latest]",
    ),
]
CatOpt = Annotated[str | None, typer.Option(help="Comma-separated categories [default: cs.CL,cs.AI,cs.LG]")]
SourceOpt = Annotated[
    str | None,
    typer.Option(help="arxiv (the API), or a JSONL listing / arXiv API Atom file [default: arxiv]"),
]


def _fail(exc: BaseException) -> None:
    code = getattr(exc, "exit_code", 1)
    typer.echo(f"ribao: error: {exc}", err=True)
    raise typer.Exit(code)


def _execute(
    flags: dict[str, Any],
    *,
    date: dt.date | None,
    local_model: Path | None,
    prompts_dir: Path | None,
    quiet: bool,
    as_json: bool,
) -> None:
    from ribao.graph.runner import model_configs, open_memory, run_digest
    from ribao.graph.trace import Tracer
    from ribao.llm.models import make_chat_model
    from ribao.settings import load_settings

    try:
        settings = load_settings(**flags)
        tracer = Tracer(quiet=quiet)
        memory = open_memory(settings)
        with model_configs(settings, local_model) as configs:
            models = {agent: make_chat_model(cfg) for agent, cfg in configs.items()}
            result = asyncio.run(
                run_digest(
                    settings,
                    date=date,
                    models=models,
                    configs=configs,
                    memory=memory,
                    prompts_dir=prompts_dir,
                    tracer=tracer,
                )
            )
    except RibaoError as exc:
        _fail(exc)
    except KeyboardInterrupt:
        typer.echo("ribao: interrupted; nothing was written", err=True)
        raise typer.Exit(130) from None
    cost = "cost unknown" if result.cost is None else f"{result.cost:.4f} {result.currency}"
    if as_json:
        typer.echo(
            json.dumps(
                {
                    **result.__dict__,
                    "date": result.date.isoformat(),
                    "digest_path": str(result.digest_path),
                    "json_path": str(result.json_path),
                }
            )
        )
    elif not quiet:
        typer.echo(
            f"{result.digest_path}  ({result.date}, {result.scanned} screened, {result.picks} picked, "
            f"{result.input_tokens + result.output_tokens:,} tokens, {cost}, {result.seconds:.0f}s, "
            f"run {result.run_id})"
        )


@app.command()
def run(
    date: DateOpt = None,
    categories: CatOpt = None,
    source: SourceOpt = None,
    must_read: Annotated[int | None, typer.Option(help="Must-read picks [default: 3]")] = None,
    notable: Annotated[int | None, typer.Option(help="Notable picks [default: 10]")] = None,
    out: Annotated[
        Path | None, typer.Option(help="Output folder for <date>.md/.json [default: ./digests]")
    ] = None,
    llm: Annotated[
        str | None,
        typer.Option(
            help="Provider: openai, deepseek, qwen, glm, kimi, doubao, ollama, "
            "a [providers] name from config.toml, or local"
        ),
    ] = None,
    local_model: Annotated[
        Path | None, typer.Option(help="GGUF file for --llm local [default: SmolLM2-135M]")
    ] = None,
    prompts_dir: Annotated[
        Path | None, typer.Option(help="Prompt overrides [default: <home>/prompts]")
    ] = None,
    no_cross_lists: Annotated[
        bool,
        typer.Option(
            "--no-cross-lists", help="Drop papers whose primary category is not one of --categories"
        ),
    ] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No trace; only errors (for cron)")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the run summary as JSON")] = False,
) -> None:
    """Write the digest of one announcement day: fetch → memory → screen ⇄ critique → write → assemble."""
    flags = {
        "categories": _categories(categories),
        "source": source,
        "must_read": must_read,
        "notable": notable,
        "out_dir": out,
        "llm": llm,
        "include_cross_lists": False if no_cross_lists else None,
    }
    _execute(
        flags,
        date=_parse_date(date),
        local_model=local_model,
        prompts_dir=prompts_dir,
        quiet=quiet,
        as_json=as_json,
    )


@app.command()
def demo(
    out: Annotated[Path, typer.Option(help="Output folder")] = Path("digests"),
    local_model: Annotated[Path | None, typer.Option(help="GGUF file [default: SmolLM2-135M]")] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q")] = False,
) -> None:
    """Run offline on the bundled real day (2026-02-18, 180 papers) with the local model."""
    flags = {"source": str(sample_listing()), "llm": "local", "out_dir": out}
    _execute(flags, date=SAMPLE_DATE, local_model=local_model, prompts_dir=None, quiet=quiet, as_json=False)


@app.command()
def fetch(
    date: DateOpt = None,
    categories: CatOpt = None,
    source: SourceOpt = None,
    no_cross_lists: Annotated[bool, typer.Option("--no-cross-lists")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per paper per line")] = False,
) -> None:
    """Print the normalised listing of one announcement day (what the screener would read)."""
    from ribao.settings import load_settings
    from ribao.sources import paper_to_json, read_listing

    try:
        settings = load_settings(
            source=source,
            categories=_categories(categories),
            include_cross_lists=False if no_cross_lists else None,
        )
        listing = read_listing(
            settings.source,
            date=_parse_date(date),
            categories=settings.categories,
            include_cross_lists=settings.include_cross_lists,
            api=settings.arxiv,
            holidays=settings.holidays,
        )
    except RibaoError as exc:
        _fail(exc)
    if as_json:
        for paper in listing.papers:
            typer.echo(json.dumps(paper_to_json(paper), ensure_ascii=False))
        return
    typer.echo(f"{listing.date}: {len(listing.papers)} papers from {listing.source}")
    for paper in listing.papers:
        typer.echo(f"{paper.arxiv_id:<12} {paper.primary_category:<9} {paper.title_display}")


def main() -> None:
    """Entry point of the console script."""
    app()


if __name__ == "__main__":
    main()
