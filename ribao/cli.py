"""The `ribao` command: one typer app assembling the command groups of `ribao/commands/`."""

from __future__ import annotations

import os

# onnxruntime (a chromadb dependency) sends telemetry unless this is set before it is imported.
os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

from ribao.commands import command_group  # noqa: E402
from ribao.commands.lazy import Lazy, LazyGroup  # noqa: E402

__all__ = ["app", "main"]


class RibaoGroup(LazyGroup):
    """Every `ribao` command, in ``--help``'s order; each module is imported only when its command runs."""

    table = {
        "run": Lazy(
            "ribao.commands.run:run",
            "Write the digest of one announcement day: fetch → memory → screen ⇄ critique → full text.",
        ),
        "demo": Lazy(
            "ribao.commands.demo:demo",
            "Run offline on the bundled real day (2026-02-18, 180 papers) with the local model.",
        ),
        "fetch": Lazy(
            "ribao.commands.run:fetch",
            "Print the normalised listing of one announcement day (what the screener would read).",
        ),
        "replay": Lazy(
            "ribao.commands.replay:replay",
            "Re-run one agent on the exact inputs recorded in a run and show the new output beside the old.",
        ),
        "graph": Lazy(
            "ribao.commands.config:graph",
            "Print the compiled LangGraph as Mermaid (paste into a Markdown file or mermaid.live).",
        ),
        "calendar": Lazy(
            "ribao.commands.calendar:calendar",
            "Show each listing day with the submission window it covers and when it is announced.",
        ),
        "push": Lazy(
            "ribao.commands.push:push",
            "(Re)send a written digest to every configured push channel, or only those named by --to.",
        ),
        "worker": Lazy(
            "ribao.commands.worker:worker",
            "Write the digests queued at [store] url, several jobs at once, until stopped (Ctrl-C, SIGTERM).",
        ),
        "backfill": Lazy(
            "ribao.commands.worker:backfill",
            "Queue the digest of every listing day from --from to --to (weekends and holidays left out).",
        ),
        "runs": Lazy(
            "ribao.commands.runs:runs_app",
            "Every run on record: list, show, trace, resume, diff, export, why, view.",
            ("ribao.commands.runs_view",),
        ),
        "prompts": Lazy(
            "ribao.commands.prompts:prompts_app", "List, show, edit, diff, reset and check the prompt files."
        ),
        "config": Lazy(
            "ribao.commands.config:config_app", "Show the effective settings and where each came from."
        ),
        "site": Lazy("ribao.commands.site:site_app", "The static archive of every digest (GitHub Pages)."),
        "eval": Lazy(
            "ribao.commands.eval:eval_app",
            "Measure picks and summaries: references, scores, comparisons.",
            ("ribao.commands.eval_run",),
        ),
        "init": Lazy("ribao.commands.init:init_app", "Write a scheduled-run workflow (GitHub Actions)."),
        "profile": Lazy(
            "ribao.commands.profile:profile_app", "The reader profiles: list them, show what one resolves to."
        ),
        "feedback": Lazy(
            "ribao.commands.feedback:feedback_app",
            "Like, dislike or mark papers not interesting, per profile.",
        ),
        "memory": Lazy(
            "ribao.commands.memory:memory_app", "The memory of featured papers: stats, list, search, forget."
        ),
        "db": Lazy(
            "ribao.commands.store:db_app", "The run log's database: upgrade it to this ribao's schema."
        ),
        "store": Lazy(
            "ribao.commands.store:store_app", "Copy a home's runs, checkpoints and memory to servers."
        ),
        "enqueue": Lazy("ribao.commands.worker:enqueue_app", "Add jobs to the queue at [store] url."),
    }


app = command_group(
    cls=RibaoGroup,
    help="ArXiv AI 日报: screen one arXiv announcement day with four LLM agents and write a Chinese digest.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@app.callback()
def _root() -> None:
    """Run one of the commands (the callback makes typer build a group with no command registered)."""


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
