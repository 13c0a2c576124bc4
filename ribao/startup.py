"""Process start-up: the garbage collector waits until the libraries are imported."""

from __future__ import annotations

import gc

# True while `defer_gc` holds the collector off; only then does `end_startup` turn it back on.
_deferred = False


def defer_gc() -> None:
    """Stop the collector while a command imports its libraries; `end_startup` restarts it.

    Importing langchain, openai and chromadb builds a few hundred thousand objects that live until
    exit (modules, classes, pydantic schemas); the collector's passes over them cost ~0.4 s of a
    run's CPU (600 young and 4 full collections) and find little to free. A command that never calls
    `end_startup` (the short ones: list, show, print) runs without the collector until it exits.
    """
    global _deferred
    if gc.isenabled():
        gc.disable()
        _deferred = True


def end_startup() -> None:
    """Restart the collector held off by `defer_gc`, leaving out what start-up built.

    What survives a collection now lives until exit: `gc.freeze` keeps later passes from scanning it.
    """
    global _deferred
    if _deferred:
        _deferred = False
        gc.collect()  # start-up's garbage, once (~5 ms), rather than frozen with the rest
        gc.freeze()
        gc.enable()
