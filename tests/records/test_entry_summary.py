"""One-line summaries of custody entries, as timelines and reports print them."""

from __future__ import annotations

from vault.services.summary import summarize_entry


def test_case_created_reads_as_sentence() -> None:
    details = {"classification": "unclassified", "counsel": None, "creator_is_member": True, "jurisdiction": None,
               "reference": "IR-2026-014", "title": "Workstation compromise"}

    summary = summarize_entry("case.created", details)

    assert summary == "case IR-2026-014 created: Workstation compromise; classification: unclassified, counsel: none"


def test_case_updated_names_each_change() -> None:
    details = {"changes": {"counsel": {"from": None, "to": "J. Doe"}, "status": {"from": "open", "to": "closed"}},
               "reason": "trial ended"}

    summary = summarize_entry("case.updated", details)

    assert summary == "case changed: counsel from none to J. Doe; status from open to closed (trial ended)"


def test_fallback_has_no_python_spellings() -> None:
    summary = summarize_entry("access.user.created", {"user": "bob", "active": True, "label": None})

    assert summary == "user=bob, active=yes, label=none"
    assert "None" not in summary
    assert "True" not in summary
