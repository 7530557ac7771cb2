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


def test_physical_verification_reads_as_intact() -> None:
    details = {"kind": "physical", "records_intact": True, "chain_intact": True, "problems": [],
               "registration_entry": 12, "location": "evidence room A", "seal": None}

    summary = summarize_entry("item.verified", details)

    assert summary == "physical item: ledger record intact (at evidence room A, seal none); no stored bytes to re-hash"


def test_physical_verification_failure_names_problem() -> None:
    details = {"kind": "physical", "records_intact": False, "chain_intact": True,
               "problems": ["database location 'x' differs from physical.registered entry #12"]}

    summary = summarize_entry("item.verified", details)

    assert summary == "FAILED: database location 'x' differs from physical.registered entry #12"
