"""`evidence-vault`: the command line for analysts, counsel and auditors.

Every command that prints data takes `--json`. A failure prints one line,
`error: …`, to standard error and exits 1 (2 for usage errors); `--verbose`
adds the traceback.
"""

from __future__ import annotations

import logging
import sys
import traceback
from typing import Optional

import typer

from vault.errors import VaultError

app = typer.Typer(
    name="evidence-vault",
    help="Forensic evidence vault: WORM storage, a verifiable custody ledger and signed reports.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    # Plain click help: typer 0.29's rich help printed every flag as taking a "<bool>" value.
    rich_markup_mode=None,
)
state = {"verbose": False}


@app.callback()
def _options(verbose: bool = typer.Option(False, "--verbose", "-v", help="Show tracebacks and debug logs.")) -> None:
    state["verbose"] = verbose
    logging.basicConfig(level=logging.DEBUG if verbose else logging.WARNING, format="%(levelname)s %(name)s %(message)s")


def _register() -> None:
    from vault.cli import audit_commands, case_commands, item_commands, serve_command

    serve_command.register(app)
    case_commands.register(app)
    item_commands.register(app)
    audit_commands.register(app)
    from vault.cli import admin_commands

    admin_commands.register(app)
    from vault.cli import records_commands

    records_commands.register(app)
    try:
        from vault.cli import hash_command
    except ImportError:  # the offline hashing command ships with vault.hashing
        return
    hash_command.register(app)


_register()


def main(argv: Optional[list[str]] = None) -> None:
    try:
        # Without standalone mode, click returns the code of a raised typer.Exit instead of exiting with it.
        exit_code = app(args=argv, standalone_mode=False)
        if isinstance(exit_code, int) and exit_code != 0:
            sys.exit(exit_code)
    except VaultError as error:
        if state["verbose"]:
            traceback.print_exc()
        typer.echo(f"error: {error}", err=True)
        sys.exit(1)
    except OSError as error:
        if state["verbose"]:
            traceback.print_exc()
        typer.echo(f"error: {error.strerror or error}: {error.filename or ''}".rstrip(": "), err=True)
        sys.exit(1)
    except KeyboardInterrupt:
        typer.echo("error: interrupted", err=True)
        sys.exit(130)
    except typer.Exit as stop:
        sys.exit(stop.exit_code)
    except typer.Abort:
        typer.echo("error: aborted", err=True)
        sys.exit(1)
    except Exception as error:  # click usage errors arrive here in non-standalone mode
        # typer ships its own copy of click, so match click's usage errors by their interface.
        if hasattr(error, "show") and hasattr(error, "exit_code"):
            error.show()
            sys.exit(error.exit_code)
        if state["verbose"]:
            traceback.print_exc()
        typer.echo(f"error: unexpected {type(error).__name__}: {error} (run with --verbose for the traceback)", err=True)
        sys.exit(1)


if __name__ == "__main__":
    main()
