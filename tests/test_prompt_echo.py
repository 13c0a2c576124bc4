"""A lead or summary that copies its prompt's placeholders or instructions is refused like a reply that
breaks its schema: re-asked, then the run fails naming the node; never published."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from ribao.agents.guards import prompt_echoes
from ribao.cli import app
from tests.support.http_run import configure_home, respond
from tests.support.samples import sample_listing
from tests.support.stub_openai import StubOpenAI

EDITOR = (
    "你是「ArXiv AI 日报」的主编（editor）。根据今天入选的论文，"
    "用简体中文写一段不超过 120 字的导语（lead），\n概括今天的主题和趋势。"
)
SOURCE = "2026-02-18 Masked-token pretraining with [MASK] and <eos> markers"
ECHO = "日期：\\[date\\]。今日入选论文聚焦智能体"  # as the 135M local model wrote it


@pytest.mark.parametrize(
    ("text", "echoed"),
    [
        (ECHO, ["\\[date\\]"]),
        ("今天聚焦 {{ date }} 与 {title}", ["{{ date }}", "{title}"]),
        ("导语：<summary>", ["<summary>"]),
        ("用简体中文写一段不超过 120 字的导语：智能体", ["用简体中文写一段不超过1…"]),
        ("今日聚焦掩码预训练：[MASK] 与 <eos> 标记", []),  # the paper's own tokens
        ("今天三篇论文关注 RL 与 MoE，概括了推理的趋势", []),
    ],
)
def test_prompt_echoes(text: str, echoed: list[str]) -> None:
    assert prompt_echoes(text, EDITOR, SOURCE) == echoed


def lead(text: str, retried: str | None = None) -> Any:
    """A responder answering the editor's lead with `text` (`retried` once re-asked), the rest validly."""

    def answer(body: dict[str, Any]) -> dict[str, Any]:
        if body["tools"][0]["function"]["name"] != "LeadOutput":
            return respond(body)
        again = retried is not None and any(
            "echoes the prompt" in str(m.get("content")) for m in body["messages"]
        )
        return {"tool": "LeadOutput", "args": {"lead": retried if again else text}}

    return answer


def run(out: Path) -> Any:
    args = ["run", "--source", str(sample_listing()), "--out", str(out), "--no-fulltext", "--no-push"]
    return CliRunner().invoke(app, args)


def test_an_echoed_lead_is_re_asked_and_the_answer_published(
    tmp_path: Path, openai_stub: StubOpenAI, monkeypatch: pytest.MonkeyPatch
) -> None:
    configure_home(tmp_path, openai_stub, monkeypatch)
    openai_stub.responder = lead(ECHO, retried="今日入选论文聚焦智能体与对齐")
    result = run(tmp_path / "out")
    assert result.exit_code == 0, result.output
    (md,) = (tmp_path / "out").glob("*.md")
    text = md.read_text(encoding="utf-8")
    assert "> 💡 今日入选论文聚焦智能体与对齐" in text and "[date]" not in text


def test_a_lead_that_keeps_echoing_fails_the_run_naming_the_node(
    tmp_path: Path, openai_stub: StubOpenAI, monkeypatch: pytest.MonkeyPatch
) -> None:
    configure_home(tmp_path, openai_stub, monkeypatch)
    openai_stub.responder = lead(ECHO)
    result = run(tmp_path / "out")
    assert result.exit_code == 1, result.output
    assert "✗ write_lead" in result.stderr
    line = result.stderr.strip().splitlines()[-1]
    assert line.startswith("ribao: error: editor (lead): ") and "echoes the prompt" in line
    assert "「\\[date\\]」" in line
    assert not list((tmp_path / "out").glob("*.md"))
