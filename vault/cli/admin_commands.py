"""`evidence-vault admin …` and `whoami`: users, API tokens and case memberships, through the API.

These commands need an administrator's token (`VAULT_TOKEN` or the token
file). `admin token create` prints the new token alone on standard output,
once; the vault keeps only its hash.
"""

from __future__ import annotations

from typing import Optional

import typer

from vault.cli.client import VaultClient
from vault.cli.output import emit


def _render_users(users: list[dict]) -> None:
    for user in users:
        state = "  disabled" if user["disabled"] else ""
        typer.echo(f"{user['name']:<24} {user['role']:<9} {user['display_name']}{state}")


def _render_tokens(tokens: list[dict]) -> None:
    for token in tokens:
        state = f"revoked {token['revoked_at']}" if token["revoked_at"] else f"expires {token['expires_at']}"
        typer.echo(f"{token['id']}  {token['user']:<24} {state}  {token['label'] or ''}".rstrip())


def register(app: typer.Typer) -> None:
    admin = typer.Typer(help="Manage users, API tokens and case memberships (administrators).", no_args_is_help=True)
    users = typer.Typer(help="Add and list users.", no_args_is_help=True)
    tokens = typer.Typer(help="Create, list and revoke API tokens.", no_args_is_help=True)
    members = typer.Typer(help="Give users access to a case, or take it away.", no_args_is_help=True)
    app.add_typer(admin, name="admin")
    admin.add_typer(users, name="user")
    admin.add_typer(tokens, name="token")
    admin.add_typer(members, name="member")

    @app.command()
    def whoami(as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
        """Show the user and role of the current API token."""
        with VaultClient() as client:
            me = client.json("GET", "/v1/whoami")
        emit(me, as_json, lambda data: typer.echo(f"{data['user']} ({data['role']}), token {data['token_id']}"))

    @users.command("add")
    def user_add(
        name: str = typer.Argument(..., help="User name recorded in custody entries, for example analyst.alice."),
        role: str = typer.Option(..., "--role", help="analyst, counsel, auditor, admin or examiner."),
        display_name: Optional[str] = typer.Option(None, "--display-name", help="Full name shown in reports."),
        as_json: bool = typer.Option(False, "--json", help="Print JSON."),
    ) -> None:
        """Add a user (recorded in the custody ledger)."""
        with VaultClient() as client:
            user = client.json("POST", "/v1/admin/users", json={"name": name, "role": role, "display_name": display_name})
        emit(user, as_json, lambda data: _render_users([data]))

    @users.command("list")
    def user_list(as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
        """List all users."""
        with VaultClient() as client:
            found = client.json("GET", "/v1/admin/users")
        emit(found, as_json, _render_users)

    @tokens.command("create")
    def token_create(
        user: str = typer.Argument(..., help="User the token belongs to."),
        days: int = typer.Option(90, "--days", help="Lifetime in days (1 to 366)."),
        label: Optional[str] = typer.Option(None, "--label", help="Note to tell tokens apart, for example the laptop."),
        as_json: bool = typer.Option(False, "--json", help="Print JSON, token included."),
    ) -> None:
        """Create a token and print it once; store it in VAULT_TOKEN or an owner-only token file."""
        with VaultClient() as client:
            created = client.json("POST", f"/v1/admin/users/{user}/tokens", json={"days": days, "label": label})
        if as_json:
            emit(created, True, typer.echo)
            return
        typer.echo(f"created token id {created['id']} for {created['user']}, expires {created['expires_at']}. "
                   "The token itself is on standard output and is shown only this once", err=True)
        typer.echo(created["token"])

    @tokens.command("list")
    def token_list(
        user: Optional[str] = typer.Option(None, "--user", help="Only this user's tokens."),
        as_json: bool = typer.Option(False, "--json", help="Print JSON."),
    ) -> None:
        """List tokens (ids, owners, expiry and revocation; never the tokens themselves)."""
        with VaultClient() as client:
            found = client.json("GET", "/v1/admin/tokens", params={"user": user} if user else None)
        emit(found, as_json, _render_tokens)

    @tokens.command("revoke")
    def token_revoke(
        token_id: str = typer.Argument(..., help="Token id, as `admin token list` shows it."),
        as_json: bool = typer.Option(False, "--json", help="Print JSON."),
    ) -> None:
        """Revoke a token at once (recorded in the custody ledger)."""
        with VaultClient() as client:
            revoked = client.json("POST", f"/v1/admin/tokens/{token_id}/revoke")
        emit(revoked, as_json, lambda data: _render_tokens([data]))

    @members.command("add")
    def member_add(
        case: str = typer.Argument(..., help="Case reference."),
        user: str = typer.Argument(..., help="User name (analyst, counsel or auditor)."),
        as_json: bool = typer.Option(False, "--json", help="Print JSON."),
    ) -> None:
        """Give a user access to a case and its items."""
        with VaultClient() as client:
            added = client.json("PUT", f"/v1/cases/{case}/members/{user}")
        emit(added, as_json, lambda data: typer.echo(f"{data['user']} ({data['role']}) is a member of case {data['case']}"))

    @members.command("remove")
    def member_remove(
        case: str = typer.Argument(..., help="Case reference."),
        user: str = typer.Argument(..., help="User name."),
        as_json: bool = typer.Option(False, "--json", help="Print JSON."),
    ) -> None:
        """Take a user's access to a case away."""
        with VaultClient() as client:
            removed = client.json("DELETE", f"/v1/cases/{case}/members/{user}")
        emit(removed, as_json, lambda data: typer.echo(f"{data['user']} is no longer a member of case {data['case']}"))
