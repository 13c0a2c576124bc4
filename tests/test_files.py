"""The one atomic-write helper: files (text or bytes) and folders are replaced whole or not at all."""

from __future__ import annotations

from pathlib import Path

import pytest

from ribao.files import swap_folder, write_file, write_files


def test_text_and_bytes_are_written_together_or_not_at_all(tmp_path: Path) -> None:
    write_files({tmp_path / "a.md": "日报\n", tmp_path / "b.npz": b"\x00\x01"})
    assert (tmp_path / "a.md").read_text(encoding="utf-8") == "日报\n"
    assert (tmp_path / "b.npz").read_bytes() == b"\x00\x01"
    with pytest.raises(OSError):  # the second cannot be written (its folder is a file): no file changes
        write_files({tmp_path / "a.md": "new", tmp_path / "b.npz" / "c": "x"})
    assert (tmp_path / "a.md").read_text(encoding="utf-8") == "日报\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.md", "b.npz"]  # no temp file left
    write_file(tmp_path / "a.md", "again")
    assert (tmp_path / "a.md").read_text(encoding="utf-8") == "again"


def test_a_folder_is_swapped_in_and_the_old_one_handed_back(tmp_path: Path) -> None:
    new, out = tmp_path / "new", tmp_path / "out"
    new.mkdir()
    (new / "index.html").write_text("new", encoding="utf-8")
    assert swap_folder(new, out) is None and (out / "index.html").read_text(encoding="utf-8") == "new"
    again = tmp_path / "again"
    again.mkdir()
    (again / "index.html").write_text("newer", encoding="utf-8")
    old = swap_folder(again, out)
    assert old is not None and (old / "index.html").read_text(encoding="utf-8") == "new"
    assert (out / "index.html").read_text(encoding="utf-8") == "newer"
