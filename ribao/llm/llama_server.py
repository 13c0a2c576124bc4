"""`python -m ribao.llm.llama_server ARGS`: llama-cpp-python's OpenAI-compatible server, with
grammar-constrained greedy sampling that checks the grammar on the chosen token first.

llama-cpp-python 0.3.36 builds every constrained request's sampler chain as penalties → grammar →
greedy, so the grammar judges all 49,152 tokens of SmolLM2's vocabulary at every step: 5.6 ms per
generated token for ribao's JSON schemas and about 10 ms for digit-free text, on top of 18 ms for
the model itself (2 threads, measured from the server's timings). llama.cpp's own server samples
first and consults the grammar only about that token, falling back to the whole vocabulary when
it is refused. `fast_grammar_sampler` does the same for greedy decoding (temperature 0, what ribao
sends): the argmax token is offered to the grammar alone; if the grammar accepts it, it is the only
candidate left, else every token is. The greedy choice among the tokens the grammar allows is the
same either way, so replies are identical, token for token (tests/test_llm_local.py checks it
against the stock server). Any other request (sampling at a temperature, logits processors, no
grammar) gets llama-cpp-python's own chain.
"""

from __future__ import annotations

import ctypes
import math
import sys
from typing import Any

import llama_cpp
import numpy as np
from llama_cpp import _internals as internals
from llama_cpp.llama import Llama

_TOKEN_DATA = np.dtype([("id", np.int32), ("logit", np.float32), ("p", np.float32)])
_stock_init_sampler = Llama._init_sampler


def _grammar_first_check(chain: Any, grammar_index: int) -> Any:
    """Return the chain's custom sampler step: keep only the argmax token when the grammar (the
    chain's sampler at `grammar_index`, looked up when called) accepts it."""

    def apply(cur_p: Any) -> None:
        arr = cur_p.contents
        if arr.size <= 1:
            return
        address = ctypes.addressof(arr.data.contents)
        view = np.frombuffer(
            (ctypes.c_char * (arr.size * _TOKEN_DATA.itemsize)).from_address(address), _TOKEN_DATA
        )
        best = int(np.argmax(view["logit"]))
        one = (llama_cpp.llama_token_data * 1)()
        one[0] = llama_cpp.llama_token_data(int(view["id"][best]), float(view["logit"][best]), 0.0)
        probe = llama_cpp.llama_token_data_array(data=one, size=1, selected=-1, sorted=False)
        grammar = llama_cpp.llama_sampler_chain_get(chain, grammar_index)
        llama_cpp.llama_sampler_apply(grammar, ctypes.byref(probe))  # filters only; accept comes later
        if math.isinf(one[0].logit):
            return  # refused: the grammar judges every token, as without this step
        if best != 0:
            first = view[0].copy()
            view[0], view[best] = view[best], first
        arr.size = 1

    return apply


def fast_grammar_sampler(self: Llama, *args: Any, **kwargs: Any) -> Any:
    """`Llama._init_sampler` with the grammar-first check for greedy, grammar-constrained requests;
    llama-cpp-python's own chain for everything else."""
    grammar = kwargs.get("grammar")
    greedy = kwargs.get("temp", 0.8) == 0.0 and kwargs.get("logits_processor") is None
    if args or grammar is None or not greedy:
        return _stock_init_sampler(self, *args, **kwargs)
    sampler = internals.LlamaSampler()
    sampler.add_penalties(
        n_vocab=self._n_vocab,
        penalty_last_n=self.last_n_tokens_size,
        penalty_repeat=kwargs.get("repeat_penalty", 1.0),
        penalty_freq=kwargs.get("frequency_penalty", 0.0),
        penalty_present=kwargs.get("presence_penalty", 0.0),
    )
    # The chain: penalties (0), the check (1), grammar (2), greedy (3).
    sampler.add_custom(_grammar_first_check(sampler.sampler, 2))
    sampler.add_grammar(self._model, grammar)
    sampler.add_greedy()
    return sampler


def main() -> None:
    """Install `fast_grammar_sampler` and run llama-cpp-python's server with `sys.argv`."""
    from llama_cpp.server.__main__ import main as serve

    Llama._init_sampler = fast_grammar_sampler  # type: ignore[method-assign]
    sys.argv[0] = "llama_cpp.server"
    serve()


if __name__ == "__main__":
    main()
