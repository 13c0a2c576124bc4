"""Code-side guards on agent text that no model can skip: quoted numbers must come from the source, and
the prompt's placeholders and instructions must not come back as the answer."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable

from pydantic import BaseModel

# A number of two or more digits, or with a decimal part, or a percentage: these must be quoted
# from the source. Single digits are exempt because sources often spell them out ("three tasks").
# Chinese text glues numbers to characters ("达到77.8%解决率"), so only ASCII letters and digits
# around a number make it part of a name (Qwen3, GPT4o); a unit after it ("40B", "3x") does not.
_NUMBER = re.compile(r"(?<![A-Za-z0-9.])(\d+(?:[.,]\d+)*%?)(?![0-9])")


def quoted_numbers(text: str) -> list[tuple[str, str]]:
    """Return the numbers in `text` that must come from the source, each as (as written, as compared:
    thousands separators and % dropped); full-width forms, "７７．８％", read as ASCII by NFKC."""
    found = []
    for match in _NUMBER.finditer(unicodedata.normalize("NFKC", text)):
        number = match.group(1).replace(",", "").rstrip("%")
        if len(number) >= 2 or "." in number:
            found.append((match.group(1), number))
    return found


def unsupported_numbers(text: str, source: str) -> list[str]:
    """Return numbers quoted in `text` (`quoted_numbers`) that do not occur in `source`."""
    plain_source = unicodedata.normalize("NFKC", source).replace(",", "")
    return [written for written, number in quoted_numbers(text) if number not in plain_source]


def numbers_from(source: str) -> Callable[[BaseModel], None]:
    """Return a structured-output check raising `ValueError` (which re-asks the model) when any text
    field of the reply quotes a number that `source` does not contain."""

    def check(out: BaseModel) -> None:
        text = " ".join(str(v) for v in out.model_dump().values())
        missing = unsupported_numbers(text, source)
        if missing:
            raise ValueError(
                f"这些数字在原文中找不到：{', '.join(missing)}。只能引用原文中出现的数字 "
                f"(numbers not in the source: {', '.join(missing)})"
            )

    return check


# A template placeholder a small model copies instead of filling in ("日期：\[date\]", "{{ date }}",
# "{title}", "<summary>"): an ASCII name in brackets, braces or angle brackets. One the source itself
# contains ("[MASK]", "<eos>") is the paper's own text and is allowed.
_PLACEHOLDER = re.compile(
    r"\{\{[^{}]{0,40}\}\}|\{\s*[A-Za-z_][A-Za-z0-9_.]{0,30}\s*\}"
    r"|\\?\[\s*[A-Za-z_][A-Za-z0-9_ .]{0,30}?\s*\\?\]|<\s*[A-Za-z_][A-Za-z0-9_]{0,30}\s*>"
)

#: Characters in a row (spaces ignored) of the prompt's instructions that make a reply an echo of
#: them: long enough that no summary or lead says it by chance (the shortest instruction line is longer).
ECHO_CHARS = 12


def _squeeze(text: str) -> str:
    """Return `text` NFKC-normalised without whitespace or markdown escapes, for verbatim comparison."""
    return re.sub(r"\s+|\\", "", unicodedata.normalize("NFKC", text))


def prompt_echoes(text: str, instructions: str, source: str) -> list[str]:
    """Return what `text` copies from its prompt rather than answers: placeholders, and runs of
    `ECHO_CHARS` or more characters of `instructions` (the system prompt), unless `source` has them."""
    plain_source = _squeeze(source)
    found = [m.group(0) for m in _PLACEHOLDER.finditer(text) if _squeeze(m.group(0)) not in plain_source]
    said, told = _squeeze(text), _squeeze(instructions)
    runs = {told[i : i + ECHO_CHARS] for i in range(len(told) - ECHO_CHARS + 1)}
    i = 0
    while i <= len(said) - ECHO_CHARS:
        window = said[i : i + ECHO_CHARS]
        if window in runs and window not in plain_source:
            found.append(window + "…")
            i += ECHO_CHARS
        else:
            i += 1
    return found


def grounded(source: str, instructions: str) -> Callable[[BaseModel], None]:
    """Return the structured-output check of a written text (a summary, the lead): its numbers come
    from `source` (`numbers_from`) and it echoes nothing of its prompt (`prompt_echoes`); a failure
    raises `ValueError`, which re-asks the model and, after the retries, fails the node."""
    numbers = numbers_from(source)

    def check(out: BaseModel) -> None:
        numbers(out)
        text = " ".join(str(v) for v in out.model_dump().values())
        echoed = prompt_echoes(text, instructions, source)
        if echoed:
            shown = " ".join(f"「{e}」" for e in echoed[:3])
            raise ValueError(
                f"回答照抄了提示里的占位符或要求：{shown}。请写出真正的内容 "
                f"(the reply echoes the prompt's placeholders or instructions: {shown})"
            )

    return check
