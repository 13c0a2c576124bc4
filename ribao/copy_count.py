"""The check every copy of a home to the servers makes: what it moved, counted on both sides."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class CopyCount:
    """One kind of thing a copy moved (a table, checkpoints, a collection): how many the source holds,
    and how many of those the target holds afterwards."""

    name: str
    source: int
    target: int

    @property
    def ok(self) -> bool:
        """True when the target holds every one of the source's."""
        return self.source == self.target

    def __str__(self) -> str:
        return f"{self.name} {self.source}/{self.target}"
