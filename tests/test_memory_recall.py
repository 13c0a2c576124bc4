"""Near-duplicate recall on real days: the ONNX MiniLM path flags exactly what sentence-transformers did."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ribao.memory import MiniLMEmbedder
from ribao.memory.minilm import default_model_dir
from tests.support.recall_days import FLAGS, THRESHOLDS, recall_flags


def test_onnx_minilm_raises_the_same_flags_as_sentence_transformers(tmp_path: Path) -> None:
    if not (default_model_dir() / "manifest.json").is_file():
        pytest.skip("no MiniLM ONNX export; run scripts/setup.sh")
    reference = json.loads(FLAGS.read_text(encoding="utf-8"))["flags"]
    got = recall_flags(MiniLMEmbedder(), tmp_path)
    assert [len(reference[str(t)]) for t in THRESHOLDS] == [2, 10, 20, 44]
    for threshold in map(str, THRESHOLDS):
        assert [row[:3] for row in got[threshold]] == [row[:3] for row in reference[threshold]], threshold
        for mine, theirs in zip(got[threshold], reference[threshold], strict=True):
            assert mine[3] == pytest.approx(theirs[3], abs=1e-4)
