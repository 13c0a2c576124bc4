"""The number guard: what a summary may quote."""

from __future__ import annotations

import pytest
from pydantic import BaseModel

from ribao.agents.guards import numbers_from, unsupported_numbers

SOURCE = "GLM-5 reaches 77.8% on SWE-bench Verified, 1,052 stars, a 744B MoE with 40B active, 1.5-2x cheaper."


@pytest.mark.parametrize(
    ("text", "missing"),
    [
        ("在SWE-bench Verified达到77.8%解决率", []),
        ("744B总参数，激活40B", []),  # "744" and "40" occur in "744B"/"40B"
        ("降本1.5-2倍", []),
        ("获得1052颗星", []),  # thousands separator in the source
        ("分三阶段，3个模块", []),  # single digits are exempt (sources spell them out)
        ("准确率提升到 98.7%", ["98.7%"]),
        ("在 2026 年发布", ["2026"]),
        ("提升 12 个点，达到 77.9%", ["12", "77.9%"]),
        ("达到７７．８％，获得１０５２颗星", []),  # full-width forms of numbers in the source
        ("在２０２６年发布", ["2026"]),  # a full-width number not in the source is still one
    ],
)
def test_unsupported_numbers(text: str, missing: list[str]) -> None:
    assert unsupported_numbers(text, SOURCE) == missing


class Reply(BaseModel):
    one_line: str


def test_check_names_the_numbers_so_the_model_can_fix_them() -> None:
    check = numbers_from(SOURCE)
    check(Reply(one_line="达到77.8%"))
    with pytest.raises(ValueError, match="98.7"):
        check(Reply(one_line="达到98.7%"))


def test_digit_free_schemas_for_grammar_constrained_models() -> None:
    from pydantic import ValidationError

    from ribao.agents.outputs import LOCAL_LEAD_CHARS, LeadOutput, MustReadOutput, digit_free

    schema = digit_free(MustReadOutput)
    props = schema.model_json_schema()["properties"]
    # The schema's own bounds, the upper one at most LOCAL_MAX_CHARS (300): a small model's text is
    # a few sentences at best, and the demo's details ran to the 800 the schema allows.
    assert props["background"]["pattern"] == r'^[^0-9０-９"\\]{10,300}$'
    assert props["details"]["pattern"] == r'^[^0-9０-９"\\]{10,300}$'
    assert props["title_zh"]["pattern"] == r'^[^0-9０-９"\\]{2,150}$'
    lead = digit_free(LeadOutput, LOCAL_LEAD_CHARS).model_json_schema()["properties"]["lead"]
    assert lead["pattern"] == r'^[^0-9０-９"\\]{4,150}$'
    fields = {"title_zh": "标题", "background": "背景" * 5, "innovation": "创新" * 5, "details": "细节" * 5}
    schema(**fields, results="没有数字的结果")
    with pytest.raises(ValidationError):
        schema(**fields, results="提升到 77.8%")
    with pytest.raises(ValidationError):  # the demo's lead once wrote "二七年０"
        schema(**fields, results="提升到７７．８％")
    schema(**fields, results="统一框架，十分高效")  # Chinese numerals are words too: allowed
    with pytest.raises(ValidationError):
        schema(**{**fields, "details": "细" * 301}, results="没有数字的结果")


def test_a_local_critic_gives_digit_free_one_sentence_reasons() -> None:
    from pydantic import ValidationError

    from ribao.agents.outputs import critique_schema

    local = critique_schema(["P01"], ["P02"], local=True)
    entry = {"decision": "replace", "replacement": "P02"}
    local(P01={**entry, "reason": "方法新颖但实验薄弱"})
    for bad in ("基金号 14DRL386791 资助", "理" * 101):  # the demo's critic wrote grant numbers
        with pytest.raises(ValidationError):
            local(P01={**entry, "reason": bad})
    provider = critique_schema(["P01"], ["P02"])
    provider(P01={**entry, "reason": "基金号 14DRL386791 资助"})  # the number guard is the writer's
