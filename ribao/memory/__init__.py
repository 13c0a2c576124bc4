"""The vector memory of featured papers (Chroma) and the embedders that feed it."""

from ribao.memory.embedders import Embedder, HashEmbedder, make_embedder
from ribao.memory.export import MINILM_SHA256
from ribao.memory.minilm import MiniLMEmbedder, load_minilm
from ribao.memory.records import MemoryHit, MemoryStats, record_text
from ribao.memory.store import DEFAULT_COLLECTION, MemoryStore, default_memory_dir

__all__ = [
    "DEFAULT_COLLECTION",
    "MINILM_SHA256",
    "Embedder",
    "HashEmbedder",
    "MemoryHit",
    "MemoryStats",
    "MemoryStore",
    "MiniLMEmbedder",
    "default_memory_dir",
    "load_minilm",
    "make_embedder",
    "record_text",
]
