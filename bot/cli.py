"""Command-line tools: ``flask --app webhook chat`` talks to the bot in a terminal."""

from __future__ import annotations

import secrets

import click
from flask import Flask

from bot.clients.identity import sender_from_web_token
from bot.services import EXTENSION


def terminal_chat(app: Flask) -> int:
    """A REPL over the same engine as SMS and the web chat. Ctrl-D or 'quit' ends it."""
    services = app.extensions[EXTENSION]
    sender = sender_from_web_token("terminal-" + secrets.token_urlsafe(16), services.settings.id_hash_key)
    click.echo("Chat with the bot (Ctrl-D to quit). Try: 'ICE put a hold on my brother'")
    _show_training_notice(services, services.settings.default_language)
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
            if not _show_training_notice(services, reply.lang) and not reply.nlu_available:
                click.echo(click.style("(Rasa is not answering: keyword fallback)", dim=True))


def _show_training_notice(services, lang: str) -> bool:
    """While ``make chat`` trains the first model: "Understanding is still training: 40%, ..." (as the web chat)."""
    from bot.channels.health import training_notice
    from bot.clients.nlu_status import read_status

    notice = training_notice(services.content, read_status(services.settings.nlu_status_file), lang)
    if notice:
        click.echo(click.style(f"({notice})", fg="yellow"))
    return notice is not None


def register_commands(app: Flask) -> None:
    register_audit_command(app)
    register_outbound_commands(app)
    register_broadcast_commands(app)
    from bot.console.cli import register_console_commands

    register_console_commands(app)

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
        # The voice line's replayable TwiML names the staff phones it dials and the line's own number
        # (the caller ID staff see): the organization's numbers, not a person's.
        public = public_numbers_of(services.content, services.router.resources)
        public |= set(services.settings.voice_staff_numbers.values())
        public |= {services.settings.twilio_from} if services.settings.twilio_from else set()
        report = audit(services.store.client, services.settings, public)
        click.echo(report.format())
        raise SystemExit(0 if report.clean else 1)


def register_outbound_commands(app: Flask) -> None:
    @app.cli.group("outbound")
    def outbound_group():
        """The outbound message queue (worker: make worker)."""

    @outbound_group.command("status")
    def status_command():
        """Queue depth, scheduled retries, and failed sends with their reason."""
        from bot.outreach.outbound import queue_status

        status = queue_status(app.extensions[EXTENSION].settings)
        click.echo(f"queued: {status.queued}  waiting to retry: {status.scheduled}  failed: {len(status.failed)}")
        for job_id, reason in status.failed:
            click.echo(f"  failed {job_id}: {reason}")

    @outbound_group.command("retry")
    def retry_command():
        """Send every failed message again."""
        from bot.outreach.outbound import retry_failed

        click.echo(f"requeued {retry_failed(app.extensions[EXTENSION].settings)} failed message(s)")

    @outbound_group.command("send")
    @click.option("--to", required=True, help="E.164 number, e.g. +13125550100")
    @click.option("--body", required=True)
    def send_command(to, body):
        """Queue one message (to try the worker and your Twilio setup)."""
        from bot.clients.identity import InvalidSender, normalize_number
        from bot.outreach.outbound import enqueue_message

        settings = app.extensions[EXTENSION].settings
        try:
            number = normalize_number(to, settings.default_region)
        except InvalidSender as exc:
            raise click.BadParameter(str(exc), param_hint="--to") from exc
        job = enqueue_message(settings, number, body)
        click.echo(f"queued job {job.id}")


def _texts_from(pairs: tuple[str, ...], file) -> dict[str, str]:
    """``--text es="…"`` options and/or a YAML file ``{es: "…", en: "…"}``."""
    texts: dict[str, str] = {}
    if file is not None:
        import yaml

        loaded = yaml.safe_load(file) or {}
        if not isinstance(loaded, dict):
            raise click.BadParameter("the file must map language codes to texts, e.g. es: \"...\"", param_hint="--file")
        texts.update({str(lang): str(text) for lang, text in loaded.items()})
    for pair in pairs:
        lang, sep, text = pair.partition("=")
        if not sep:
            raise click.BadParameter(f"expected LANG=TEXT, got {pair!r}", param_hint="--text")
        texts[lang] = text
    return texts


def _audience_options(command):
    command = click.option("--language", "languages", multiple=True, help="only subscribers in this language (repeatable)")(command)
    command = click.option("--state", "states", multiple=True, help="only this state, e.g. IL (repeatable)")(command)
    command = click.option("--county", "counties", multiple=True, help="only this county, e.g. IL:Cook (repeatable)")(command)
    command = click.option("--text", "texts", multiple=True, help='LANG=TEXT, e.g. es="Alerta: ..." (repeatable)')(command)
    command = click.option("--file", type=click.File("r", encoding="utf-8"), help="YAML file of LANG: TEXT")(command)
    return command


def register_broadcast_commands(app: Flask) -> None:
    from bot.outreach.broadcasts import BroadcastError
    from bot.outreach.outbound import OutboundNotConfigured
    from bot.outreach.subscriptions import Audience

    def broadcasts():
        services = app.extensions[EXTENSION]
        if services.broadcasts is None:
            raise click.ClickException("broadcasts need REDIS_URL and ENCRYPTION_KEY (see README, Outreach)")
        return services.broadcasts

    def audience(languages, states, counties) -> Audience:
        return Audience(
            tuple(code.lower() for code in languages),
            tuple(state.upper() for state in states),
            tuple(f"{c.split(':', 1)[0].upper()}:{c.split(':', 1)[1]}" for c in counties if ":" in c),
        )

    def show_preview(preview) -> None:
        click.echo(f"reaches {preview.reach} subscriber(s)")
        for lang, count in sorted(preview.segments_by_language.items()):
            reach = preview.reach_by_language.get(lang, 0)
            click.echo(f"  {lang}: {reach} subscriber(s), {count.segments} SMS segment(s) ({count.encoding}, {count.units} units, footer included)")
        for lang, count in sorted(preview.without_text.items()):
            click.echo(f"  {lang}: {count} subscriber(s) skipped: no text in their language (add --text {lang}=...)")

    @app.cli.group("broadcast")
    def broadcast_group():
        """Alerts to opted-in subscribers, one text per language (worker: make worker)."""

    @broadcast_group.command("preview")
    @_audience_options
    def preview_command(languages, states, counties, texts, file):
        """How many people a broadcast reaches, and its SMS segments per language."""
        try:
            show_preview(broadcasts().preview(_texts_from(texts, file), audience(languages, states, counties)))
        except BroadcastError as exc:
            raise click.ClickException(str(exc)) from None

    @broadcast_group.command("send")
    @_audience_options
    @click.option("--yes", is_flag=True, help="do not ask for confirmation")
    def send_command(languages, states, counties, texts, file, yes):
        """Create a broadcast and queue it for the workers."""
        book = broadcasts()
        try:
            chosen_texts = _texts_from(texts, file)
            chosen = audience(languages, states, counties)
            preview = book.preview(chosen_texts, chosen)
            show_preview(preview)
            if not yes and not click.confirm(f"Send to {preview.reach} subscriber(s)?"):
                raise click.Abort()
            campaign = book.create(chosen_texts, chosen)
            added = book.start(campaign.id)
        except (BroadcastError, OutboundNotConfigured) as exc:
            raise click.ClickException(str(exc)) from None
        click.echo(f"broadcast {campaign.id}: queued {added} alert(s); follow it with: flask broadcast status {campaign.id} --watch")

    @broadcast_group.command("status")
    @click.argument("campaign_id")
    @click.option("--watch", is_flag=True, help="show a progress bar until every alert is sent or failed")
    def status_command(campaign_id, watch):
        """Sent / delivered / failed / skipped, with Twilio error codes."""
        import time

        book = broadcasts()
        try:
            book.get(campaign_id)
        except BroadcastError as exc:
            raise click.ClickException(str(exc)) from None
        progress = book.progress(campaign_id)
        if watch and progress.total:
            with click.progressbar(length=progress.total, label=f"broadcast {campaign_id}") as bar:
                done = 0
                while True:
                    progress = book.progress(campaign_id)
                    finished = progress.total - progress.by_summary.get("pending", 0)
                    bar.update(finished - done)
                    done = finished
                    if finished >= progress.total:
                        break
                    time.sleep(1)
        click.echo(progress.line())
        for code, count in sorted(progress.errors.items()):
            click.echo(f"  {code}: {count}")

    @broadcast_group.command("resume")
    @click.argument("campaign_id")
    def resume_command(campaign_id):
        """Queue again every alert not yet sent (after a worker stopped or jobs failed)."""
        try:
            count = broadcasts().resume(campaign_id)
        except (BroadcastError, OutboundNotConfigured) as exc:
            raise click.ClickException(str(exc)) from None
        click.echo(f"requeued {count} unsent alert(s) of broadcast {campaign_id}")
