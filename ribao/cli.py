"""The `ribao` command: one typer app assembling the command groups of `ribao/commands/`."""

from __future__ import annotations

import os

# onnxruntime (a chromadb dependency) sends telemetry unless this is set before it is imported.
os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

import ribao.commands.runs_view  # noqa: E402, F401  (adds runs why and runs view to runs_app)
from ribao.commands import command_group  # noqa: E402
from ribao.commands.calendar import calendar  # noqa: E402
from ribao.commands.config import config_app, graph  # noqa: E402
from ribao.commands.eval import eval_app  # noqa: E402
from ribao.commands.eval_run import eval_run  # noqa: E402
from ribao.commands.feedback import feedback_app  # noqa: E402
from ribao.commands.init import init_app  # noqa: E402
from ribao.commands.memory import memory_app  # noqa: E402
from ribao.commands.profile import profile_app  # noqa: E402
from ribao.commands.prompts import prompts_app  # noqa: E402
from ribao.commands.push import push  # noqa: E402
from ribao.commands.replay import replay  # noqa: E402
from ribao.commands.run import demo, fetch, run  # noqa: E402
from ribao.commands.runs import runs_app  # noqa: E402
from ribao.commands.site import site_app  # noqa: E402
from ribao.commands.store import db_app, store_app  # noqa: E402
from ribao.commands.worker import backfill, enqueue_app, worker  # noqa: E402

__all__ = ["app", "main"]

app = command_group(
    help="ArXiv AI 日报: screen one arXiv announcement day with four LLM agents and write a Chinese digest.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.command()(run)
app.command()(demo)
app.command()(fetch)
app.add_typer(
    runs_app, name="runs", help="Every run on record: list, show, trace, resume, diff, export, why, view."
)
app.command()(replay)
app.add_typer(prompts_app, name="prompts", help="List, show, edit, diff, reset and check the prompt files.")
app.add_typer(config_app, name="config", help="Show the effective settings and where each came from.")
app.command("graph")(graph)
app.command()(calendar)
app.command()(push)
app.add_typer(site_app, name="site", help="The static archive of every digest (GitHub Pages).")
eval_app.command("run")(eval_run)
app.add_typer(eval_app, name="eval", help="Measure picks and summaries: references, scores, comparisons.")
app.add_typer(init_app, name="init", help="Write a scheduled-run workflow (GitHub Actions).")
app.add_typer(profile_app, name="profile", help="The reader profiles: list them, show what one resolves to.")
app.add_typer(
    feedback_app, name="feedback", help="Like, dislike or mark papers not interesting, per profile."
)
app.add_typer(memory_app, name="memory", help="The memory of featured papers: stats, list, search, forget.")
app.add_typer(db_app, name="db", help="The run log's database: upgrade it to this ribao's schema.")
app.add_typer(store_app, name="store", help="Copy a home's runs, checkpoints and memory to servers.")
app.command()(worker)
app.add_typer(enqueue_app, name="enqueue", help="Add jobs to the queue at [store] url.")
app.command()(backfill)


def main() -> None:
    """Entry point of the console script.

    Output piped into a reader that stops early (``ribao fetch --json | head -2``) ends the process
    quietly, by SIGPIPE, as with other Unix filters; click would otherwise exit 1 without a word.
    """
    import signal

    from ribao.startup import defer_gc

    defer_gc()

    if hasattr(signal, "SIGPIPE"):
        signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    app()


if __name__ == "__main__":
    main()
