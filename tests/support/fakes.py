"""A scripted chat model for agent and graph tests: structured output through a fake tool call."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from langchain_core.utils.function_calling import convert_to_openai_tool
from pydantic import ConfigDict, Field

# responder(tool_name, json_schema_of_the_tool, messages) -> tool args (dict) or an AIMessage
Responder = Callable[[str, dict[str, Any], list[BaseMessage]], dict[str, Any] | AIMessage]


class ScriptedChatModel(BaseChatModel):
    """A chat model whose replies come from `responder`; records every request in `requests`.

    `bind_tools` remembers the bound tool so `with_structured_output(method="function_calling")`
    works the way it does against a real provider: the reply is a tool call with the given args.
    Each reply reports `usage` tokens (input, output).
    """

    model_config = ConfigDict(arbitrary_types_allowed=True)

    responder: Responder
    model_name: str = "scripted"
    usage: tuple[int, int] = (100, 20)
    bound_tool: dict[str, Any] | None = None
    requests: list[dict[str, Any]] = Field(default_factory=list)
    lock: Any = Field(default_factory=threading.Lock)

    @property
    def _llm_type(self) -> str:
        return "scripted"

    def bind_tools(
        self, tools: Sequence[Any], *, tool_choice: Any = None, **kwargs: Any
    ) -> ScriptedChatModel:  # type: ignore[override]
        return self.model_copy(update={"bound_tool": convert_to_openai_tool(tools[0])})

    def _generate(
        self, messages: list[BaseMessage], stop: Any = None, run_manager: Any = None, **kw: Any
    ) -> ChatResult:
        fn = (self.bound_tool or {}).get("function", {})
        name, schema = fn.get("name", ""), fn.get("parameters", {})
        with self.lock:
            self.requests.append({"tool": name, "messages": [m.content for m in messages], "schema": schema})
        out = self.responder(name, schema, messages)
        tin, tout = self.usage
        if isinstance(out, AIMessage):
            msg = out
        else:
            msg = AIMessage(
                content="", tool_calls=[{"name": name, "args": out, "id": f"call_{len(self.requests)}"}]
            )
        msg.usage_metadata = {"input_tokens": tin, "output_tokens": tout, "total_tokens": tin + tout}
        return ChatResult(generations=[ChatGeneration(message=msg)])

    def calls_for(self, tool: str) -> list[dict[str, Any]]:
        """Return the recorded requests that asked for `tool`."""
        return [r for r in self.requests if r["tool"] == tool]


def _resolve(schema: dict[str, Any], root: dict[str, Any]) -> dict[str, Any]:
    ref = schema.get("$ref")
    if ref:
        return _resolve(root["$defs"][ref.split("/")[-1]], root)
    return schema


def fake_value(
    schema: dict[str, Any], root: dict[str, Any], *, text: str = "这是一段用于测试的中文内容", pick: int = 0
) -> Any:
    """Return a value valid for `schema`: the `pick`-th enum value, the minimum, or padded `text`."""
    schema = _resolve(schema, root)
    if "enum" in schema:
        return schema["enum"][pick % len(schema["enum"])]
    if "anyOf" in schema:
        return fake_value(schema["anyOf"][0], root, text=text, pick=pick)
    kind = schema.get("type")
    if kind == "object":
        return {k: fake_value(v, root, text=text, pick=pick) for k, v in schema.get("properties", {}).items()}
    if kind == "integer":
        return schema.get("minimum", 1)
    if kind == "number":
        return schema.get("minimum", 1.0)
    if kind == "boolean":
        return True
    if kind == "array":
        return [fake_value(schema["items"], root, text=text, pick=pick)] * schema.get("minItems", 1)
    value = text
    while len(value) < schema.get("minLength", 0):
        value += text
    return value[: schema.get("maxLength", len(value))]


def valid_args(schema: dict[str, Any], **kw: Any) -> dict[str, Any]:
    """Return tool args that satisfy the tool's JSON schema."""
    return fake_value(schema, schema, **kw)


def default_responder(name: str, schema: dict[str, Any], messages: list[BaseMessage]) -> dict[str, Any]:
    """Answer every agent validly: triage scores by key number, keep every pick, plain Chinese text."""
    args = valid_args(schema)
    if name == "TriageScores":
        # Higher score for keys whose number is a multiple of 7: a deterministic, non-trivial ranking.
        if "scores" in args:  # the compact schema of a grammar-constrained model: P01, P02 … in order
            return {"scores": [9 if n % 7 == 0 else 3 for n in range(1, len(args["scores"]) + 1)]}
        return {k: 9 if int(k[1:]) % 7 == 0 else 3 for k in args}
    if name == "CriticVerdicts":
        return {k: {"decision": "keep", "reason": "入选合理", "replacement": "none"} for k in args}
    return args
