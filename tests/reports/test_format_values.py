"""Report formatting of values that arrive as JSON: lists, empty lists and nested data."""

from __future__ import annotations

from vault.reports import _format as fmt


def test_container_check_rows_without_json_brackets() -> None:
    check = {"format": "ewf", "stored": ["md5:38ea5af8a80e16e46c095c9110242fc0"],
             "computed": ["md5:38ea5af8a80e16e46c095c9110242fc0", "sha1:34de9912223904d829534a02331a49a9a9241c0d"],
             "metadata_damage": []}

    rows = dict(fmt.mapping_rows(check))

    assert rows["Stored"] == "md5:38ea5af8a80e16e46c095c9110242fc0"
    assert rows["Computed"] == "md5:38ea5af8a80e16e46c095c9110242fc0, sha1:34de9912223904d829534a02331a49a9a9241c0d"
    assert rows["Metadata damage"] == "none"


def test_nested_values_stay_json() -> None:
    assert fmt.plain([{"section": "table", "offset": 512}]) == '[{"offset": 512, "section": "table"}]'
    assert fmt.plain([True, False]) == "[true, false]"
