"""Chinese category names (ribao.sources.categories)."""

from __future__ import annotations

import pytest

from ribao.sources.categories import CATEGORY_NAMES_ZH, category_name_zh, format_category

# arXiv's computer-science taxonomy, all 40 subject classes.
CS_CODES = [
    "AI",
    "AR",
    "CC",
    "CE",
    "CG",
    "CL",
    "CR",
    "CV",
    "CY",
    "DB",
    "DC",
    "DL",
    "DM",
    "DS",
    "ET",
    "FL",
    "GL",
    "GR",
    "GT",
    "HC",
    "IR",
    "IT",
    "LG",
    "LO",
    "MA",
    "MM",
    "MS",
    "NA",
    "NE",
    "NI",
    "OH",
    "OS",
    "PF",
    "PL",
    "RO",
    "SC",
    "SD",
    "SE",
    "SI",
    "SY",
]


@pytest.mark.parametrize(
    ("code", "name"),
    [
        ("cs.AI", "人工智能"),
        ("cs.CL", "计算语言学"),
        ("cs.LG", "机器学习"),
        ("cs.CV", "计算机视觉"),
        ("cs.RO", "机器人"),
        ("cs.IR", "信息检索"),
        ("cs.NE", "神经与进化计算"),
        ("cs.MA", "多智能体系统"),
        ("stat.ML", "统计机器学习"),
        ("eess.SP", "信号处理"),
        ("quant-ph", "量子物理"),
    ],
)
def test_known_names(code: str, name: str) -> None:
    assert category_name_zh(code) == name


def test_every_cs_category_has_a_chinese_name() -> None:
    missing = [f"cs.{c}" for c in CS_CODES if f"cs.{c}" not in CATEGORY_NAMES_ZH]
    assert missing == []
    assert all(any("\u4e00" <= ch <= "\u9fff" for ch in CATEGORY_NAMES_ZH[f"cs.{c}"]) for c in CS_CODES)


def test_format_category() -> None:
    assert format_category("cs.LG") == "cs.LG (机器学习)"
    assert format_category(" cs.CL ") == "cs.CL (计算语言学)"
    assert format_category("math.XX") == "math.XX"
    assert category_name_zh("math.XX") == "math.XX"
