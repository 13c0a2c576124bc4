"""pyproject's warning filters: a DeprecationWarning attributed to ribao's own code fails the test."""

from __future__ import annotations

import warnings

import pytest

import ribao.ledger


def test_a_deprecation_from_ribao_code_is_an_error() -> None:
    with pytest.raises(DeprecationWarning):
        warnings.warn_explicit(
            "old API", DeprecationWarning, filename=ribao.ledger.__file__, lineno=1, module="ribao.ledger"
        )


def test_a_third_party_deprecation_is_not_an_error() -> None:
    with pytest.warns(DeprecationWarning):
        warnings.warn_explicit("old API", DeprecationWarning, filename="x.py", lineno=1, module="somelib")
