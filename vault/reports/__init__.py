"""Signed PDF/A-3b chain-of-custody reports.

`render_report` lays out a report from `ReportData` and attaches the
machine-readable record as `custody.json`; `ReportSigner.sign` adds a PAdES
B-B signature; `verify_report` checks one, offline, with separate verdicts.
"""

from vault.reports.data import ReportData
from vault.reports.pdf import render_report
from vault.reports.signing import ReportSigner
from vault.reports.verify import ReportVerdict, verify_report

__all__ = ["ReportData", "ReportSigner", "ReportVerdict", "render_report", "verify_report"]
