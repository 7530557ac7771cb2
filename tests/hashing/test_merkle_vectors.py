"""Every RFC 6962 probe of the transparency-dev/merkle test vectors through merkle.verify_*.

Each JSON file is one case: a happy path or a corrupted proof (`wantErr`).
"""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from tests.conftest import VECTORS_DIR
from vault.errors import ProofError
from vault.hashing.merkle import verify_consistency, verify_inclusion

INCLUSION = sorted((VECTORS_DIR / "inclusion").rglob("*.json"))
CONSISTENCY = sorted((VECTORS_DIR / "consistency").rglob("*.json"))


def _case_id(path: Path) -> str:
    return str(path.relative_to(VECTORS_DIR))


def _b64(value: str) -> bytes:
    return base64.b64decode(value)


def test_vector_directories_are_populated() -> None:
    assert len(INCLUSION) > 50
    assert len(CONSISTENCY) > 50


@pytest.mark.parametrize("path", INCLUSION, ids=_case_id)
def test_inclusion_vector(path: Path) -> None:
    case = json.loads(path.read_text())

    def verify() -> None:
        verify_inclusion(
            _b64(case["leafHash"]), case["leafIdx"], case["treeSize"], [_b64(p) for p in case["proof"] or []], _b64(case["root"])
        )

    if case["wantErr"]:
        with pytest.raises(ProofError):
            verify()
    else:
        verify()


@pytest.mark.parametrize("path", CONSISTENCY, ids=_case_id)
def test_consistency_vector(path: Path) -> None:
    case = json.loads(path.read_text())

    def verify() -> None:
        verify_consistency(
            case["size1"], case["size2"], _b64(case["root1"]), _b64(case["root2"]), [_b64(p) for p in case["proof"] or []]
        )

    if case["wantErr"]:
        with pytest.raises(ProofError):
            verify()
    else:
        verify()
