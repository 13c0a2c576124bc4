"""Code-side guards on agent text that no model can skip: quoted numbers must come from the source."""

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
