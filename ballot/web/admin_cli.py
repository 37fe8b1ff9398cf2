"""``ballot admin``: secretaries' accounts (the database of ``ballot serve``)."""

from __future__ import annotations

from pathlib import Path

import click

__all__ = ["admin_group"]


def _factory():
    from ballot.instance import describe
    from ballot.web import create_app

    app = create_app()
    engine = app.extensions["ballot.engine"]
    click.echo(describe(Path(app.instance_path), engine.url.render_as_string(hide_password=False)),
               err=True)
    return app.extensions["ballot.meeting"].factory


@click.group("admin")
def admin_group() -> None:
    """Secretaries' accounts (tài khoản thư ký)."""


@admin_group.command("create")
@click.argument("username")
@click.password_option("--password", prompt="Password / Mật khẩu",
                       confirmation_prompt="Repeat / Nhập lại",
                       help="Read from the terminal (twice) when not given.")
def create(username: str, password: str) -> None:
    """Create the account USERNAME; the password is stored as an argon2id hash."""
    from .auth import AccountError, create_admin

    try:
        create_admin(_factory(), username, password)
    except AccountError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"Account {username!r} created.")


@admin_group.command("password")
@click.argument("username")
@click.password_option("--password", prompt="New password / Mật khẩu mới",
                       confirmation_prompt="Repeat / Nhập lại")
def password(username: str, password: str) -> None:
    """Set a new password for USERNAME; ends its sessions and its sign-in lockout."""
    from ballot.web import create_app

    from .auth import AccountError, set_password
    from .signin import end_all_sessions, unlock

    meeting = create_app().extensions["ballot.meeting"]
    try:
        set_password(meeting.factory, username, password)
    except AccountError as exc:
        raise click.ClickException(str(exc)) from None
    end_all_sessions(meeting.factory, username)
    unlock(meeting.throttles.limiter, username)
    click.echo(f"Password of {username!r} changed; its sessions are ended.")


@admin_group.command("list")
def list_accounts() -> None:
    """List the accounts."""
    from .auth import list_admins

    for name in list_admins(_factory()):
        click.echo(name)
