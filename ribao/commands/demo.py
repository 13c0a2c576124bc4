"""`ribao demo`: a day's digest offline, from the bundled real listing, with the bundled local model."""

from __future__ import annotations

import datetime as dt
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from ribao.commands import cli_errors
from ribao.commands.run import QuietOpt, run_and_report

if TYPE_CHECKING:
    from ribao.settings import Settings

SAMPLE_DATE = dt.date(2026, 2, 18)


def sample_listing() -> Path:
    """Return the bundled real listing of 2026-02-18 (180 papers in cs.CL/cs.AI/cs.LG)."""
    return Path(str(resources.files("ribao") / "data" / f"{SAMPLE_DATE.isoformat()}.cs.jsonl"))


#: What the demo changes for its 135M model, unless config.toml or RIBAO_* env set the same key.
#: Triage shows 12 abstract words (about 47 SmolLM2 tokens per candidate against 99 at the default
#: 50; scripts/triage_view.py on this day keeps the whole-abstract view's top 3 and 12 of its top 13
#: in the shortlist, as the 60-word view does), and ranking and the critic 30 (default 60). One critic
#: round: SmolLM2's critic answers "replace" for all 13 picks in every round, so a second round
#: re-ranks and re-critiques for nothing (about a quarter of the demo's tokens); the capped
#: revise stays on record in the digest and the run log. No full text: the demo is offline, and
#: without a network each must-read waited out 3 sources x 3 tries, 3 s apart, before falling
#: back to its abstract.
DEMO_DEFAULTS: dict[str, Any] = {
    "triage_abstract_words": 12,
    "screener_abstract_words": 30,
    "max_critic_rounds": 1,
    "fulltext": {"enabled": False},
    "delivery": {"enabled": False},  # offline: no push channel, whatever config.toml names
}


def demo_settings(**flags: Any) -> Settings:
    """Return the demo's settings: `flags` for `load_settings` plus `DEMO_DEFAULTS` where unset."""
    from ribao.settings import load_settings

    settings = load_settings(**flags)
    unset = [k for k in DEMO_DEFAULTS if k not in settings.model_fields_set]
    return load_settings(**flags, **{k: DEMO_DEFAULTS[k] for k in unset}) if unset else settings


def demo(
    out: Annotated[Path, typer.Option(help="Output folder")] = Path("digests"),
    local_model: Annotated[Path | None, typer.Option(help="GGUF file [default: SmolLM2-135M]")] = None,
    plain: Annotated[
        bool, typer.Option("--plain", help="Pick for the general editorial stance, not the example reader")
    ] = False,
    quiet: QuietOpt = False,
) -> None:
    """Run offline on the bundled real day (2026-02-18, 180 papers) with the local model, picking for
    the bundled example reader (robot learning; ribao/data/profiles/example.toml) unless --plain
    (sized for the model: 12-word triage abstracts, 30 words when ranking, one critic round, no full
    text, no push; config.toml can set each)."""
    from ribao.profiles.build import with_example
    from ribao.profiles.names import EXAMPLE_PROFILE

    with cli_errors():
        settings = demo_settings(
            source=str(sample_listing()),
            llm="local",
            out_dir=out,
            local={"model_path": local_model} if local_model else None,
        )
        if not plain:
            settings = with_example(settings, out)
    profile = None if plain else EXAMPLE_PROFILE
    run_and_report(settings, date=SAMPLE_DATE, quiet=quiet, as_json=False, profile=profile)
