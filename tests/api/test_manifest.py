"""The upload manifest rejects names and values that would corrupt or disguise the record."""

from __future__ import annotations

import base64

import pytest

from vault.errors import InvalidInput
from vault.services.manifest import UploadManifest


def _header(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode("utf-8")).decode("ascii")


@pytest.mark.parametrize(
    "document, message",
    [
        ('{"files":[{"name":"a\\ud800b","size":3}]}', "surrogates not allowed"),
        ('{"files":[{"name":"a\\nb","size":3}]}', "U+000A"),
        ('{"files":[{"name":"a\\u001bb","size":3}]}', "U+001B"),
        ('{"files":[{"name":"invoice\\u202etxt.exe","size":3}]}', "U+202E"),
        ('{"files":[{"name":"a","size":-1}]}', "invalid size -1"),
        ('{"files":[{"name":"a","size":6000000000000}]}', "5 TiB"),
        ('{"files":[{"name":"../a","size":1}]}', "without '/'"),
        ('{"files":[{"name":"x.dd","size":1},{"name":"x.dd","size":1}]}', "appears twice"),
        ("[" * 100_000, "nested too deeply"),
    ],
    ids=["lone-surrogate", "newline", "escape", "rtl-override", "negative", "too-large", "slash", "duplicate", "deep-nesting"],
)
def test_manifest_rejects_bad_value(document, message):
    with pytest.raises(InvalidInput) as raised:
        UploadManifest.decode(_header(document))

    assert message in str(raised.value)


def test_manifest_keeps_unicode_name_exactly():
    manifest = UploadManifest.decode(_header('{"files":[{"name":"ímynd.dd","size":102400}]}'))

    assert manifest.files[0].name == "ímynd.dd"
