"""Extract sections from arXiv's LaTeXML HTML (arxiv.org/html, ar5iv) with lxml."""

from __future__ import annotations

import re
from collections.abc import Iterator

from lxml import html as lxml_html

from ribao.fulltext.document import Section
from ribao.fulltext.sanitise import drop_hidden

# Page chrome and parts that are not the paper's prose.
_DROP = (
    "//script | //style | //noscript | //nav | //header | //footer | //svg | //img | //button | //form"
    " | //*[contains(concat(' ', @class, ' '), ' ltx_page_navbar ')]"
    " | //*[contains(concat(' ', @class, ' '), ' ltx_page_footer ')]"
    " | //*[contains(concat(' ', @class, ' '), ' ltx_bibliography ')]"
    " | //*[contains(concat(' ', @class, ' '), ' ltx_graphics ')]"
    " | //*[contains(concat(' ', @class, ' '), ' ltx_authors ')]"
    " | //*[contains(concat(' ', @class, ' '), ' ltx_note ')]"
    " | //*[contains(concat(' ', @class, ' '), ' ltx_dates ')]"
    " | //*[contains(concat(' ', @class, ' '), ' ltx_TOC ')]"
)
_BLOCK_CLASSES = ("ltx_p", "ltx_listingline")
_TOP = ("ltx_section", "ltx_appendix", "ltx_acknowledgements")
_WS = re.compile(r"[ \t\r\f\v\u00a0]+")


def _classes(el: lxml_html.HtmlElement) -> set[str]:
    return set((el.get("class") or "").split())


def _text(el: lxml_html.HtmlElement) -> str:
    return _WS.sub(" ", el.text_content()).strip()


def _maths_as_text(root: lxml_html.HtmlElement) -> None:
    """Replace each MathML `<math>` by its LaTeX alttext (``$x^2$``), dropping the MathML markup."""
    for math in list(root.iter("math", "{http://www.w3.org/1998/Math/MathML}math")):
        alt = (math.get("alttext") or "").strip()
        if not alt:
            ann = math.xpath(".//*[local-name()='annotation'][@encoding='application/x-tex']")
            alt = ann[0].text_content().strip() if ann else ""
        tail = math.tail or ""
        replacement = f" ${alt}$ " if alt else " "
        parent = math.getparent()
        if parent is None:
            continue
        prev = math.getprevious()
        if prev is not None:
            prev.tail = (prev.tail or "") + replacement + tail
        else:
            parent.text = (parent.text or "") + replacement + tail
        parent.remove(math)


def _blocks(el: lxml_html.HtmlElement) -> Iterator[str]:
    """Yield the readable blocks under `el` in document order: headings, paragraphs, captions, tables."""
    for child in el:
        if not isinstance(child.tag, str):
            continue
        cls = _classes(child)
        if child.tag in ("h3", "h4", "h5", "h6") and "ltx_title_abstract" not in cls:
            title = _text(child)
            if title:
                yield f"## {title}"
        elif child.tag == "table" or "ltx_tabular" in cls:
            rows = [" | ".join(_text(td) for td in tr if isinstance(td.tag, str)) for tr in child.iter("tr")]
            rows = [r for r in rows if r.strip(" |")]
            if rows:
                yield "[表格 table] " + " ; ".join(rows)
        elif child.tag == "figcaption" or "ltx_caption" in cls:
            caption = _text(child)
            if caption:
                yield f"[图表说明 caption] {caption}"
        elif child.tag == "p" or cls.intersection(_BLOCK_CLASSES):
            para = _text(child)
            if para:
                yield para
        elif child.tag in ("h1", "h2") or "ltx_title_abstract" in cls:
            continue  # the section's own title, read by the caller
        else:
            yield from _blocks(child)


def _section(el: lxml_html.HtmlElement, default: str) -> Section:
    title = el.xpath("./*[self::h1 or self::h2 or self::h3 or self::h6][1]")
    heading = _text(title[0]) if title else default
    return Section(heading=heading, text="\n\n".join(_blocks(el)))


def extract_html(data: bytes) -> tuple[list[Section], int]:
    """Return (sections, hidden elements dropped) of a LaTeXML page: abstract first, then each top-level
    section and appendix in order. Bibliography, navigation, figures' images and MathML markup are
    dropped; maths become their LaTeX alttext; table cells are joined with ``|``.

    Raises `ValueError` when the page has no LaTeXML article (no section and no abstract).
    """
    root = lxml_html.document_fromstring(data)
    hidden = drop_hidden(root)
    for el in root.xpath(_DROP):
        if el.getparent() is not None:
            el.drop_tree()
    _maths_as_text(root)
    doc = root.xpath("//*[contains(concat(' ', @class, ' '), ' ltx_document ')]")
    article = doc[0] if doc else root
    sections: list[Section] = []
    for abstract in article.xpath(".//*[contains(concat(' ', @class, ' '), ' ltx_abstract ')]")[:1]:
        sections.append(_section(abstract, "Abstract"))
    for el in article.iter("section", "div"):
        if _classes(el).intersection(_TOP):
            sections.append(_section(el, "Section"))
    sections = [s for s in sections if s.text.strip()]
    if not sections:
        raise ValueError("no LaTeXML article in the page (no ltx_section and no ltx_abstract)")
    return sections, hidden
