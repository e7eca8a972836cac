"""Command-line tools: ``flask --app webhook chat`` talks to the bot in a terminal."""

from __future__ import annotations

import secrets

import click
from flask import Flask

from bot.identity import sender_from_web_token
from bot.services import EXTENSION


def terminal_chat(app: Flask) -> int:
    """A REPL over the same engine as SMS and the web chat. Ctrl-D or 'quit' ends it."""
    services = app.extensions[EXTENSION]
    sender = sender_from_web_token("terminal-" + secrets.token_urlsafe(16), services.settings.id_hash_key)
    click.echo("Chat with the bot (Ctrl-D to quit). Try: 'ICE put a hold on my brother'")
    with app.app_context():
        while True:
            try:
                text = click.prompt("you", prompt_suffix="> ", default="", show_default=False)
            except (EOFError, click.Abort):
                click.echo()
                return 0
            if text.strip().lower() in {"quit", "exit"}:
                return 0
            reply = services.engine.handle(sender, text)
            for message in reply.messages:
                click.echo(click.style(f"bot [{reply.lang}]> ", bold=True) + message)
            if not reply.nlu_available:
                click.echo(click.style("(Rasa is not answering: keyword fallback)", dim=True))


def register_commands(app: Flask) -> None:
    register_audit_command(app)

    @app.cli.command("chat")
    def chat_command():
        """Chat with the bot in this terminal (needs a running Rasa for best answers)."""
        raise SystemExit(terminal_chat(app))


def register_audit_command(app: Flask) -> None:
    @app.cli.command("audit-data")
    def audit_data_command():
        """Scan Redis: keys without TTL, phone numbers, message bodies, oldest data by kind."""
        from bot.audit import audit, public_numbers_of

        services = app.extensions[EXTENSION]
        if services.store.kind != "redis":
            raise click.ClickException("REDIS_URL is not set: nothing is stored outside this process")
        report = audit(services.store.client, services.settings, public_numbers_of(services.content, services.router.resources))
        click.echo(report.format())
        raise SystemExit(0 if report.clean else 1)
