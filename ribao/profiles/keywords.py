"""A profile's interests as English keywords: the shipped embedder reads English, readers may write Chinese.

Chinese (or any non-English) interests are turned into keywords once by the configured model, through
ribao's structured call, and cached by the text's sha256 in `<home>/cache/profiles/keywords/`;
`ribao profile show` prints them, and a profile's own `keywords` replace them. English interests are
split into keywords as written, with no call.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import TYPE_CHECKING

from langchain_core.messages import HumanMessage, SystemMessage
from pydantic import BaseModel, Field

from ribao.files import write_file
from ribao.llm.structured import ainvoke_structured

if TYPE_CHECKING:
    from collections.abc import Callable

    from langchain_core.language_models import BaseChatModel

    from ribao.calls import LLMCall
    from ribao.ledger import Cost

_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af]")
_SPLIT = re.compile(r"[,;，；、\n]+")
_SYSTEM = (
    "You turn a researcher's reading interests into English keyword phrases as they appear in arXiv "
    "titles and abstracts. Give 3 to 10 short phrases (1-4 words each), most important first, "
    "covering every topic the reader names; no translations of filler words, no Chinese."
)


class Keywords(BaseModel):
    """English keyword phrases for a reader's interests, most important first."""

    keywords: list[str] = Field(min_length=1, max_length=12, description="English phrases, 1-4 words each")


def needs_model(interests: str) -> bool:
    """Whether `interests` need the model: they contain Chinese, Japanese or Korean text."""
    return bool(_CJK.search(interests))


def split_keywords(interests: str) -> list[str]:
    """Return English interests as keywords: split at commas, semicolons and new lines."""
    return [k.strip() for k in _SPLIT.split(interests) if k.strip()]


def keyword_cache(home: Path, interests: str) -> Path:
    """Return the cache file of the keywords of `interests` (by the text's sha256)."""
    digest = hashlib.sha256(interests.strip().encode("utf-8")).hexdigest()
    return home / "cache" / "profiles" / "keywords" / f"{digest}.json"


def cached_keywords(home: Path, interests: str) -> list[str] | None:
    """Return the cached keywords of `interests`, None when they were never derived (or the file is bad)."""
    try:
        data = json.loads(keyword_cache(home, interests).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    words = data.get("keywords") if isinstance(data, dict) else None
    return [str(w) for w in words] if isinstance(words, list) and words else None


async def derive_keywords(
    interests: str,
    home: Path,
    model: BaseChatModel,
    *,
    retries: int = 2,
    price: Callable[[LLMCall], Cost] | None = None,
) -> tuple[list[str], list[LLMCall]]:
    """Return the English keywords of `interests` and the calls made: the cache's, else asked once and cached.

    Raises what `ainvoke_structured` raises (`LLMOutputError`, `ProviderError`).
    """
    if not needs_model(interests):
        return split_keywords(interests), []
    cached = cached_keywords(home, interests)
    if cached is not None:
        return cached, []
    messages = [SystemMessage(_SYSTEM), HumanMessage(f"Reader's interests:\n{interests.strip()}")]
    out, calls = await ainvoke_structured(
        model, Keywords, messages, agent="screener", task="profile keywords", retries=retries, price=price
    )
    words = [" ".join(k.split()) for k in out.keywords if k.strip()]
    record = {"interests": interests.strip(), "keywords": words}
    write_file(keyword_cache(home, interests), json.dumps(record, ensure_ascii=False, indent=1) + "\n")
    return words, calls
