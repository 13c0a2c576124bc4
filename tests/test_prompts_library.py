"""A prompt library reads and hashes each file once; the next library reads the file as edited since."""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path
from typing import Any

from ribao.prompts import PromptLibrary

CRITIC = "critic/system.md.j2"  # a registered file rendered with no variables

# Paths opened by this process since the watch began (audit hooks cannot be removed: one, filtered).
_opened: list[str] = []
_watched: list[str] = []


def _audit(event: str, args: tuple[Any, ...]) -> None:
    opened = args[0] if event == "open" and isinstance(args[0], (str, Path)) else None
    if opened is not None and _watched and str(opened).startswith(_watched[0]):
        _opened.append(str(opened))


sys.addaudithook(_audit)


def _user_file(folder: Path, text: str) -> Path:
    path = folder / CRITIC
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_rendering_a_prompt_many_times_reads_its_file_once(tmp_path: Path) -> None:
    path = _user_file(tmp_path, "You are the critic, round {{ 1 + 1 }}.\n")
    _watched[:] = [str(tmp_path)]
    try:
        library = PromptLibrary(user_dir=tmp_path)
        made = _opened.count(str(path))
        texts = {library.render("critic", "system") for _ in range(50)}
    finally:
        _watched.clear()
    assert texts == {"You are the critic, round 2."}
    # Read once, when the library is made (before a run): rendering does no file I/O on the event loop.
    assert (made, _opened.count(str(path))) == (1, 1)
    assert library.used[CRITIC] == {
        "source": "user",
        "path": str(path),
        "sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
    }


def test_a_file_edited_between_runs_is_read_by_the_next_library(tmp_path: Path) -> None:
    path = _user_file(tmp_path, "First version.\n")
    first = PromptLibrary(user_dir=tmp_path)
    assert first.render("critic", "system") == "First version."
    old_hash = first.used[CRITIC]["sha256"]
    _user_file(tmp_path, "Second version.\n")

    # A run renders the version it records, whatever happens to the file meanwhile.
    assert first.render("critic", "system") == "First version."
    assert first.used[CRITIC]["sha256"] == old_hash

    second = PromptLibrary(user_dir=tmp_path)
    assert second.render("critic", "system") == "Second version."
    assert second.used[CRITIC]["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest() != old_hash
    path.unlink()
    assert PromptLibrary(user_dir=tmp_path).render("critic", "system") != "Second version."
    assert PromptLibrary(user_dir=tmp_path).path_of(CRITIC)[1] == "default"
