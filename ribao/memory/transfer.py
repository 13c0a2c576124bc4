"""Copy a home's embedded Chroma memory to a Chroma server: every collection, vectors as stored."""

from __future__ import annotations

from pathlib import Path

from ribao.copy_count import CopyCount
from ribao.memory.store import DEFAULT_TIMEOUT_S, _client, chroma_errors

PAGE = 1000


def copy_memory(folder: Path, url: str, timeout_s: float = DEFAULT_TIMEOUT_S) -> list[CopyCount]:
    """Upsert every collection of the embedded store in `folder` into the server at `url`, with its
    metadata (embedder name and dimension) and cosine distance; the vectors are copied, not recomputed;
    each request to the server waits at most `timeout_s`.
    Raises `MemoryStoreError` naming the side that failed."""
    source, where = _client(folder, None)
    target, there = _client(None, url, timeout_s)
    counts = []
    with chroma_errors("listing collections", where):
        names = sorted(c.name for c in source.list_collections())
    for name in names:
        with chroma_errors(f"reading collection {name!r}", where):
            col = source.get_collection(name, embedding_function=None)
            total = col.count()
            pages = [
                col.get(include=["embeddings", "documents", "metadatas"], limit=PAGE, offset=start)
                for start in range(0, total, PAGE)
            ]
        with chroma_errors(f"writing collection {name!r}", there):
            out = target.get_or_create_collection(
                name,
                embedding_function=None,
                configuration={"hnsw": {"space": "cosine"}},
                metadata=col.metadata,
            )
            for page in pages:
                if page["ids"]:
                    out.upsert(
                        ids=page["ids"],
                        embeddings=page["embeddings"],  # type: ignore[arg-type]
                        documents=page["documents"],
                        metadatas=page["metadatas"],  # type: ignore[arg-type]
                    )
            # Of the source's records, how many the server holds now: a collection that held other
            # papers already (another home moved there first) is merged into, and is no loss.
            held = sum(len(out.get(ids=page["ids"], include=[])["ids"]) for page in pages if page["ids"])
            counts.append(CopyCount(f"memory {name}", total, held))
    return counts
