"""`evidence-vault case …`: create, list and show cases."""

from __future__ import annotations

from typing import Optional

import typer

from vault.cli.client import VaultClient
from vault.cli.output import emit


def _render_case(case: dict) -> None:
    typer.echo(f"case {case['reference']}: {case['title']}")
    for key in ("id", "status", "classification", "jurisdiction", "created_at"):
        if case.get(key):
            typer.echo(f"  {key}: {case[key]}")
    for item in case.get("items", []):
        names = ", ".join(item["names"])
        typer.echo(f"  item {item['id']}  {item['status']}  {item['size']} bytes  {item['sha256']}  {names}")


def register(app: typer.Typer) -> None:
    group = typer.Typer(help="Create, list and show cases.", no_args_is_help=True)
    app.add_typer(group, name="case")

    @group.command("create")
    def create(
        reference: str = typer.Argument(..., help="Case reference, for example IR-2026-014."),
        title: str = typer.Option(..., "--title", help="Short title of the incident or matter."),
        classification: Optional[str] = typer.Option(None, help="For example: data breach, system compromise."),
        jurisdiction: Optional[str] = typer.Option(None, help="Legal jurisdiction, for example DE or US-CA."),
        as_json: bool = typer.Option(False, "--json", help="Print JSON."),
    ) -> None:
        """Create a case (recorded in the custody ledger)."""
        with VaultClient() as client:
            case = client.json("POST", "/v1/cases", json={
                "reference": reference, "title": title, "classification": classification, "jurisdiction": jurisdiction,
            })
        emit(case, as_json, _render_case)

    @group.command("list")
    def list_(as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
        """List all cases."""
        with VaultClient() as client:
            cases = client.json("GET", "/v1/cases")
        emit(cases, as_json, lambda data: [typer.echo(f"{c['reference']}\t{c['status']}\t{c['title']}") for c in data])

    @group.command("show")
    def show(
        reference: str = typer.Argument(..., help="Case reference."),
        as_json: bool = typer.Option(False, "--json", help="Print JSON."),
    ) -> None:
        """Show a case and its items (the view is recorded)."""
        with VaultClient() as client:
            case = client.json("GET", f"/v1/cases/{reference}")
        emit(case, as_json, _render_case)
