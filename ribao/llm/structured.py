"""Structured output with a bounded, error-naming retry, and a record of every LLM call."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from typing import Any, TypeVar, cast

import openai
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage
from pydantic import BaseModel, ValidationError
from tenacity import AsyncRetrying, retry_if_exception_type, stop_after_attempt, wait_exponential

from ribao.calls import LLMCall
from ribao.errors import LLMOutputError, ProviderDown, ProviderError
from ribao.ledger import Cost
from ribao.llm.models import STRUCTURED_OUTPUT_METHOD
from ribao.llm.usage import Usage

T = TypeVar("T", bound=BaseModel)

# A 200 whose body is not valid JSON (cut in half by a proxy, say) is a transient provider fault
# the openai client does not retry: ask again a few times, then fail in one line.
MALFORMED_BODY = (json.JSONDecodeError, UnicodeDecodeError, openai.APIResponseValidationError)
_MALFORMED_TRIES = 3


def _malformed_retry() -> AsyncRetrying:
    """Return a fresh retry policy for malformed bodies (one per call: concurrent calls share no state)."""
    return AsyncRetrying(
        retry=retry_if_exception_type(MALFORMED_BODY),
        stop=stop_after_attempt(_MALFORMED_TRIES),
        wait=wait_exponential(multiplier=0.2, max=2),
        reraise=True,
    )


def model_name(model: BaseChatModel) -> str:
    """Return the model name a chat model sends (`model_name` on ChatOpenAI), or its class name."""
    return str(getattr(model, "model_name", None) or getattr(model, "model", None) or type(model).__name__)


def _raw_text(msg: AIMessage | None) -> str:
    if msg is None:
        return ""
    if msg.tool_calls:
        return json.dumps([tc["args"] for tc in msg.tool_calls], ensure_ascii=False)
    return msg.content if isinstance(msg.content, str) else json.dumps(msg.content, ensure_ascii=False)


def _tokens(msg: AIMessage | None) -> tuple[int, int, int]:
    if msg is None:
        return 0, 0, 0
    usage = Usage.from_message(msg)
    return usage.input_tokens, usage.output_tokens, usage.cached_tokens


async def ainvoke_structured(
    model: BaseChatModel,
    schema: type[T],
    messages: Sequence[BaseMessage],
    *,
    agent: str,
    task: str,
    check: Callable[[T], None] | None = None,
    retries: int = 2,
    price: Callable[[LLMCall], Cost] | None = None,
) -> tuple[T, list[LLMCall]]:
    """Ask `model` for a `schema` instance via forced function calling, then run `check` on it.

    A reply that fails to parse, or that `check` rejects with `ValueError`, is re-asked up to
    `retries` times with the error named in a follow-up message. Returns the accepted object and
    the record of every attempt, each priced once by `price(call)` (`RunContext.price`; without
    it the cost is unknown) into its `cost` and `currency`. Raises `LLMOutputError` (with the
    last error) when all fail; `ProviderError` when the provider itself fails (its retry budget
    spent on 429/5xx/timeouts, a status not worth retrying, or 3 replies whose body was malformed
    JSON); `ProviderDown` when the provider's breaker is open (see `ribao.llm.limits`).
    """
    # One method for every provider (see `STRUCTURED_OUTPUT_METHOD` for why it is function calling).
    runnable = model.with_structured_output(schema, method=STRUCTURED_OUTPUT_METHOD, include_raw=True)
    history = list(messages)
    calls: list[LLMCall] = []
    for attempt in range(retries + 1):
        started = time.perf_counter()
        where = getattr(model, "openai_api_base", None) or "the default endpoint"
        try:
            async for try_ in _malformed_retry():
                with try_:
                    out = cast(dict[str, Any], await runnable.ainvoke(history))
        except MALFORMED_BODY as exc:
            raise ProviderError(
                f"{agent} ({task}): {model_name(model)} at {where} sent a malformed reply body "
                f"{_MALFORMED_TRIES} times: {type(exc).__name__}: {' '.join(str(exc).split())[:200]}"
            ) from exc
        except ProviderDown:
            raise  # about the provider, not this call: named without the agent that noticed first
        except ProviderError as exc:  # the gate's retry budget ran out (ribao.llm.limits)
            raise ProviderError(f"{agent} ({task}): {model_name(model)}: {exc}") from exc
        except openai.APIError as exc:  # a status not worth retrying (401, 400, …)
            raise ProviderError(
                f"{agent} ({task}): {model_name(model)} at {where} failed: {type(exc).__name__}: {exc}"
            ) from exc
        raw: AIMessage | None = out.get("raw")
        parsed = out.get("parsed")
        error: str | None = None
        if raw is not None and raw.response_metadata.get("finish_reason") == "length":
            error = "the reply was cut off at the output token limit (max_tokens); answer more briefly"
        elif out.get("parsing_error") is not None or parsed is None:
            error = _describe(out.get("parsing_error")) or "the reply did not call the output function"
        elif check is not None:
            try:
                check(parsed)
            except ValueError as exc:
                error = str(exc)
        tin, tout, tcached = _tokens(raw)
        call = LLMCall(
            agent=agent,
            model=model_name(model),
            task=task if attempt == 0 else f"{task} (retry {attempt})",
            messages=[{"role": m.type, "content": str(m.content)} for m in history],
            raw=_raw_text(raw),
            parsed=parsed.model_dump(mode="json") if isinstance(parsed, BaseModel) else None,
            input_tokens=tin,
            output_tokens=tout,
            cached_tokens=tcached,
            latency_s=round(time.perf_counter() - started, 3),
            error=error,
        )
        if price is not None:
            call.cost, call.currency = price(call)
        calls.append(call)
        if error is None:
            return cast(T, parsed), calls
        history = [
            *messages,
            HumanMessage(
                content=f"你上一次的回答未通过检查，请修正后重新回答。问题：{error}\n"
                f"(Your previous reply was rejected: {error}. Answer again, fixing this.)"
            ),
        ]
    raise LLMOutputError(
        f"{agent} ({task}): the model's reply broke the {schema.__name__} schema or its checks "
        f"{retries + 1} times; last error: {calls[-1].error}",
        calls,
    )


def _describe(exc: BaseException | None) -> str | None:
    if exc is None:
        return None
    if isinstance(exc, ValidationError):
        return "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()[:5])
    return str(exc)[:500]
