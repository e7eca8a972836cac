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
    register_outbound_commands(app)

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


def register_outbound_commands(app: Flask) -> None:
    @app.cli.group("outbound")
    def outbound_group():
        """The outbound message queue (worker: make worker)."""

    @outbound_group.command("status")
    def status_command():
        """Queue depth, scheduled retries, and failed sends with their reason."""
        from bot.outbound import queue_status

        status = queue_status(app.extensions[EXTENSION].settings)
        click.echo(f"queued: {status.queued}  waiting to retry: {status.scheduled}  failed: {len(status.failed)}")
        for job_id, reason in status.failed:
            click.echo(f"  failed {job_id}: {reason}")

    @outbound_group.command("retry")
    def retry_command():
        """Send every failed message again."""
        from bot.outbound import retry_failed

        click.echo(f"requeued {retry_failed(app.extensions[EXTENSION].settings)} failed message(s)")

    @outbound_group.command("send")
    @click.option("--to", required=True, help="E.164 number, e.g. +13125550100")
    @click.option("--body", required=True)
    def send_command(to, body):
        """Queue one message (to try the worker and your Twilio setup)."""
        from bot.identity import InvalidSender, normalize_number
        from bot.outbound import enqueue_message

        settings = app.extensions[EXTENSION].settings
        try:
            number = normalize_number(to, settings.default_region)
        except InvalidSender as exc:
            raise click.BadParameter(str(exc), param_hint="--to") from exc
        job = enqueue_message(settings, number, body)
        click.echo(f"queued job {job.id}")
