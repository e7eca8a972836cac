"""``flask --app webhook console create-admin``: the first admin account (more come from the console)."""

from __future__ import annotations

import os

import click
from flask import Flask

from bot.language.languages import SUPPORTED_LANGUAGES
from bot.console.staff import AccountError

PASSWORD_ENV = "CONSOLE_ADMIN_PASSWORD"


def register_console_commands(app: Flask) -> None:
    @app.cli.group("console")
    def console_group():
        """Staff console accounts."""

    @console_group.command("create-admin")
    @click.argument("username")
    @click.option("--languages", default=",".join(SUPPORTED_LANGUAGES), show_default=True,
                  help="Comma-separated languages this person answers in.")
    @click.option("--role", type=click.Choice(["admin", "staff"]), default="admin", show_default=True)
    def create_admin(username, languages, role):
        """Create an account. The password is asked for (not echoed), or read from CONSOLE_ADMIN_PASSWORD."""
        from bot.console import console

        with app.app_context():
            state = console()
        if state.staff is None:
            raise click.ClickException("REDIS_URL is not set: accounts live in Redis")
        password = os.environ.get(PASSWORD_ENV) or click.prompt(
            "Password (12+ characters)", hide_input=True, confirmation_prompt=True)
        try:
            account = state.staff.create(username, password, role, languages.split(","))
        except AccountError as exc:
            raise click.ClickException(str(exc)) from None
        click.echo(f"created {account.role} {account.username} ({', '.join(account.languages)}); "
                   f"log in at /console/login")

    @console_group.command("reset-2fa")
    @click.argument("username")
    def reset_2fa(username):
        """Turn off someone's two-factor login (a lost phone, and no admin left who can log in)."""
        from bot.console import console

        with app.app_context():
            state = console()
            if state.twofactor is None:
                raise click.ClickException("two-factor login needs REDIS_URL and ENCRYPTION_KEY")
            try:
                state.twofactor.reset(username)
            except AccountError as exc:
                raise click.ClickException(str(exc)) from None
            state.audit.record("(command line)", "2fa_reset", username)
        click.echo(f"two-factor login reset for {username}; their logins ended")

    @console_group.command("sweep")
    def sweep():
        """Keep promises to waiting people: idle returns, "nobody came in time", "a person is reading".

        The console does this while staff watch the queue; run this every minute from cron
        so it also happens when nobody has the console open.
        """
        from bot.services import services

        with app.app_context():
            gate = services().engine.handoff
        if gate is None:
            raise click.ClickException("handoff is off (see /console for why)")
        click.echo(f"{gate.desk.sweep()} handoff(s) changed")
