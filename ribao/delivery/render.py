"""A rendering per channel: the full Markdown, a compact card, plain text; fitted to the channel's limit.

Every rendering is built from the digest's record (`<out>/<date>.json`, read back through
`DigestRecord`) or its written Markdown, so a re-sent digest (`ribao push`) says exactly what the
written one says.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ribao.delivery.channels import ChannelSpec
from ribao.record import DigestPaths, DigestRecord
from ribao.sources.text import md_inline


@dataclass
class Message:
    """One rendering ready to send: its title, its parts (one message each) and what was cut."""

    title: str
    parts: list[str]
    cut: int = 0  # rows or paragraphs left out (shortened) — said in the message itself
    sizes: list[int] = field(default_factory=list)  # UTF-8 bytes of each part


def size_of(text: str, unit: str) -> int:
    """Return the length of `text` in `unit`: UTF-8 ``bytes`` or ``chars``."""
    return len(text.encode("utf-8")) if unit == "bytes" else len(text)


def page_url(site_url: str | None, record: DigestRecord) -> str | None:
    """Return the day page's address on the published site, or None without `site_url`."""
    return f"{site_url.rstrip('/')}/{DigestPaths.of(Path(), record.date).html.name}" if site_url else None


def _one_line(text: str | None) -> str:
    return " ".join((text or "").split())


def card_blocks(record: DigestRecord, *, markdown: bool) -> tuple[str, list[str]]:
    """Return the compact card's header and one block per pick (title with link, one-line reason)."""
    must, notable = len(record.must_reads), len(record.notables)
    counts = f"扫描/精选: {record.scanned}/{record.picked}（必读 {must}，关注 {notable}）"
    header = f"🧪 {record.title}\n{counts}"
    blocks = []
    for p in record.picks:
        mark = "🔥" if p.tier == "must_read" else "📋"
        title, reason = _one_line(p.title), _one_line(p.reason)
        if markdown:
            blocks.append(f"{mark} {p.rank}. [{md_inline(title)}]({p.abs_url})\n{reason}")
        else:
            blocks.append(f"{mark} {p.rank}. {title}\n{p.abs_url}\n{reason}")
    return header, blocks


def markdown_blocks(markdown: str) -> list[str]:
    """Split the digest's Markdown into paragraphs and table rows, the units a cut may fall between."""
    blocks: list[str] = []
    for para in re.split(r"\n{2,}", markdown.strip()):
        lines = para.split("\n")
        if lines[0].startswith("|") and len(lines) > 3:  # a table: header rows stay with the first row
            blocks.append("\n".join(lines[:3]))
            blocks.extend(lines[3:])
        else:
            blocks.append(para)
    return blocks


def _join(blocks: Sequence[str]) -> str:
    # Table rows follow each other on single newlines; other blocks are paragraphs.
    out = ""
    for b in blocks:
        sep = (
            ""
            if not out
            else "\n"
            if b.startswith("|") and out.rsplit("\n", 1)[-1].startswith("|")
            else "\n\n"
        )
        out += sep + b
    return out


def _truncate(block: str, limit: int, unit: str) -> str:
    """Cut one over-long paragraph (no links: summaries) at a character boundary, saying so."""
    note = "…（本段过长，已截断）"
    text = block
    while text and size_of(text + note, unit) > limit:
        text = text[: max(1, len(text) - max(1, (size_of(text + note, unit) - limit) // 3))]
    return text + note


def shorten(header: str, blocks: list[str], footer: str, limit: int, unit: str, what: str) -> tuple[str, int]:
    """Keep whole blocks from the start while they fit; end with a line saying how many were left out."""
    kept: list[str] = []
    for i, block in enumerate(blocks):
        left = len(blocks) - i - 1
        note = f"……另有 {left} 条未列出（{what}）" if left else ""
        candidate = _join([header, *kept, block, *(x for x in (note, footer) if x)])
        if size_of(candidate, unit) > limit:
            break
        kept.append(block)
    cut = len(blocks) - len(kept)
    tail = [f"……另有 {cut} 条未列出（{what}）"] if cut else []
    return _join([header, *kept, *tail, *([footer] if footer else [])]), cut


def split(blocks: list[str], limit: int, unit: str) -> list[str]:
    """Pack whole blocks into parts of at most `limit` (minus room for the ``(i/n)`` mark)."""
    room = limit - 16
    units: list[str] = []
    for block in blocks:
        if size_of(block, unit) <= room:
            units.append(block)
            continue
        for line in block.split("\n"):  # a paragraph too big for one part: by lines, then cut
            units.append(line if size_of(line, unit) <= room else _truncate(line, room, unit))
    parts: list[list[str]] = [[]]
    for u in units:
        if parts[-1] and size_of(_join([*parts[-1], u]), unit) > room:
            parts.append([])
        parts[-1].append(u)
    texts = [_join(p) for p in parts]
    if len(texts) == 1:
        return texts
    return [f"（{i}/{len(texts)}）\n\n{t}" for i, t in enumerate(texts, 1)]


def serverchan_safe(text: str) -> str:
    """Replace ``<`` and ``&`` (where ServerChan cuts the text) by their full-width forms."""
    for escaped, wide in (("\\<", "＜"), ("\\&", "＆"), ("<", "＜"), ("&", "＆")):
        text = text.replace(escaped, wide)
    return text


TRANSFORMS: dict[str, Callable[[str], str]] = {"schan": serverchan_safe}


def render_for(
    spec: ChannelSpec,
    scheme: str,
    *,
    record: DigestRecord,
    markdown: str,
    html: str,
    site_url: str | None,
) -> Message:
    """Return the message for a channel of `scheme` with `spec`: its rendering, fitted to its limit."""
    title = record.title
    link = page_url(site_url, record)
    transform = TRANSFORMS.get(scheme, lambda s: s)
    if spec.format == "html":
        return _done(Message(title, [html]))
    if spec.format == "markdown":
        blocks = [transform(b) for b in markdown_blocks(markdown)]
        if spec.limit is None or size_of(_join(blocks), spec.unit) <= spec.limit:
            return _done(Message(title, [_join(blocks)]))
        if spec.split:
            return _done(Message(title, split(blocks, spec.limit, spec.unit)))
        header, rest, footer = blocks[0], blocks[1:], f"全文: {link}" if link else ""
    else:
        header, rest = card_blocks(record, markdown=spec.format == "card")
        header, rest = transform(header), [transform(b) for b in rest]
        footer = f"全文: {link}" if link else ""
        if spec.format == "card" and link:
            footer = f"[📖 全文]({link})"
    if spec.limit is None:
        return _done(Message(title, [_join([header, *rest, *([footer] if footer else [])])]))
    what = f"消息限 {spec.limit:,} {'字节' if spec.unit == 'bytes' else '字'}"
    text, cut = shorten(header, rest, footer, spec.limit, spec.unit, what)
    return _done(Message(title, [text], cut=cut))


def _done(msg: Message) -> Message:
    msg.sizes = [len(p.encode("utf-8")) for p in msg.parts]
    return msg
