"""Does a shorter triage view keep the screener's judgement? Tokens per candidate and shortlist overlap.

For each listing it builds every triage request ribao would send (the real prompts, batches and
tool schema), once with the whole abstract (the full view) and once per `--words` value, counts
their tokens (DeepSeek's tokenizer when installed, else ribao's estimate; see
scripts/sim_provider.py) and scores every candidate with a scripted judge that reads only what the
request shows (tests/support/triage_judge.py). Then it compares what each view would shortlist: the top 3
(must-reads) and the top 13 (the digest) of the full view: how many of them the shorter view
still puts in its shortlist (26 by default, what the ranker re-reads with longer abstracts), and
how much the two shortlists share, in ribao's own shortlist order (`by_triage_score`: best score,
ties in listing order). The same against the previous view (60 words).

    .venv/bin/python scripts/triage_view.py ../shared/data/arxiv/2026-02-1[78].cs.jsonl --words 40 50

Prints figures; asserts nothing (tests/test_triage_view.py checks one real day).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import sim_provider  # noqa: E402
from langchain_core.utils.function_calling import convert_to_openai_tool  # noqa: E402

from ribao.agents.outputs import triage_schema  # noqa: E402
from ribao.agents.screener import by_triage_score  # noqa: E402
from ribao.agents.triage import batch_keys, triage_messages  # noqa: E402
from ribao.prompts import PromptLibrary  # noqa: E402
from ribao.schemas import Paper  # noqa: E402
from ribao.settings import Settings  # noqa: E402
from ribao.sources import read_listing  # noqa: E402
from ribao.sources.options import ListingOptions
from tests.support.triage_judge import judge_request  # noqa: E402

FULL = 10_000  # words: the whole abstract


@dataclass
class ViewFigures:
    """One view of one day: triage tokens (all requests), candidates, and the scripted judge's order."""

    words: int
    tokens: int
    candidates: int
    order: list[str]

    @property
    def per_candidate(self) -> float:
        """Triage prompt tokens per candidate (the batch's shared part included)."""
        return self.tokens / self.candidates


def triage_day(papers: Sequence[Paper], words: int, settings: Settings | None = None) -> ViewFigures:
    """Build the day's triage requests with `words` abstract words; count tokens; judge; order."""
    s = settings or Settings()
    prompts = PromptLibrary()
    size = s.screener_batch_size
    batches = [list(papers[i : i + size]) for i in range(0, len(papers), size)]
    tokens, scores = 0, {}
    for n, batch in enumerate(batches, start=1):
        keys = batch_keys(batch, size)
        messages = triage_messages(
            prompts, batch, keys, batch_index=n, batch_count=len(batches), abstract_words=words
        )
        body = {
            "messages": [{"role": "system" if m.type == "system" else "user", "content": m.content}
                         for m in messages],
            "tools": [convert_to_openai_tool(triage_schema(list(keys.values())))],
        }  # fmt: skip
        tokens += sim_provider.prompt_tokens(body)
        by_key = judge_request(str(messages[-1].content))
        scores |= {p.arxiv_id: by_key[keys[p.arxiv_id]] for p in batch}
    order = [p.arxiv_id for p in by_triage_score(papers, scores)]
    return ViewFigures(words, tokens, len(papers), order)


def kept(reference: ViewFigures, view: ViewFigures, top: int, shortlist: int) -> float:
    """Share of `reference`'s top `top` papers that `view` puts in its shortlist (its first `shortlist`).

    Triage's job: the ranker re-reads the shortlist with longer abstracts and picks from it, so a
    paper the full view would feature must survive into the shorter view's shortlist.
    """
    return len(set(reference.order[:top]) & set(view.order[:shortlist])) / top


def main(argv: list[str]) -> int:
    """Print, per listing and view, triage tokens per candidate and what the view keeps of the
    full view's (whole abstract) and the previous view's (60 words) top papers."""
    p = argparse.ArgumentParser(prog="triage_view.py")
    p.add_argument("listings", nargs="+")
    p.add_argument("--words", type=int, nargs="+", default=[Settings().triage_abstract_words])
    p.add_argument("--previous", type=int, default=60, help="abstract words of the view before (60)")
    opts = p.parse_args(argv)
    s = Settings()
    must, digest = s.must_read, s.must_read + s.notable
    size = s.shortlist_factor * digest
    print(f"tokens: {sim_provider.token_counter()[0]}; batches of {s.screener_batch_size}; "
          f"kept = share of the reference's top {must} / top {digest} in this view's shortlist of {size}, "
          f"overlap = shared shortlist")  # fmt: skip
    cols = f"{'top ' + str(must):>7}{'top ' + str(digest):>7}{'overlap':>8}"
    print(f"{'':<35}{'vs full abstract':^22}  {'vs ' + str(opts.previous) + ' words':^22}")
    print(f"{'day':<11}{'view':>9}{'tokens':>8}{'/cand.':>7}{cols}  {cols}")
    for listing in opts.listings:
        papers = read_listing(ListingOptions(listing, categories=s.categories), None).papers
        full = triage_day(papers, FULL, s)
        previous = triage_day(papers, opts.previous, s)
        day = Path(listing).name.split(".")[0]
        for words in dict.fromkeys([FULL, opts.previous, *opts.words]):
            v = {FULL: full, opts.previous: previous}.get(words) or triage_day(papers, words, s)
            name = "full" if words == FULL else f"{words} w"
            cells = [
                f"{kept(ref, v, must, size):>7.0%}{kept(ref, v, digest, size):>7.0%}"
                f"{kept(ref, v, size, size):>8.0%}"
                for ref in (full, previous)
            ]
            print(f"{day:<11}{name:>9}{v.tokens:>8,}{v.per_candidate:>7.0f}{cells[0]}  {cells[1]}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
