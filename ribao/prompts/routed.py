"""The prompts of a replay: some agents' from another folder, the others' as the recorded run had them."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ribao.prompts import PromptLibrary


class RoutedPrompts:
    """The prompts of a replay: the chosen agents' from the experiment's folder, the others' as the
    base run had them. `used` records every file rendered, as `PromptLibrary.used` does."""

    def __init__(self, chosen: Sequence[str], new: PromptLibrary, base: PromptLibrary) -> None:
        self.chosen, self.new, self.base = frozenset(chosen), new, base
        self.used: dict[str, dict[str, str]] = {}

    def _library(self, agent: str) -> PromptLibrary:
        return self.new if agent in self.chosen else self.base

    def render(self, agent: str, name: str, **variables: Any) -> str:
        """Render `<agent>/<name>.md.j2` from the library that agent's prompts come from."""
        library = self._library(agent)
        text = library.render(agent, name, **variables)
        self.used.update(library.used)
        return text

    def render_file(self, rel: str, *, filters: dict[str, Any] | None = None, **variables: Any) -> str:
        """Render the file `rel` (``agent/name.md.j2``) from that agent's library."""
        library = self._library(rel.split("/", 1)[0])
        text = library.render_file(rel, filters=filters, **variables)
        self.used.update(library.used)
        return text
