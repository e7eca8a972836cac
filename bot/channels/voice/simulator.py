"""``flask --app webhook voice call``: a phone call in the terminal, without a phone or Twilio.

It plays Twilio's part against this app: posts each step to ``/voice`` signed with
``TWILIO_AUTH_TOKEN`` (as Twilio signs), prints what the caller would hear, and sends back what
you type: a single key (0-9) as a key press, anything else as speech, an empty line as silence.
At a ``<Dial>`` it asks whether staff picked up. Nothing is sent to Twilio; texts the line queues
stay in the outbound queue (no worker, nothing sent) unless a worker runs.
"""

from __future__ import annotations

import secrets
import xml.etree.ElementTree as ET
from typing import Callable

import click
from flask import current_app
from twilio.request_validator import RequestValidator

from bot.channels.voice.routes import bp

#: What the simulated caller's phone posts on every request.
CALLER = "+13125550123"
LINE = "+15005550006"


class SimulatedCall:
    def __init__(self, client, token: str, base: str, caller: str, listen: Callable[[str], None],
                 answer: Callable[[str], str]):
        self.client = client
        self.validator = RequestValidator(token)
        self.base = base
        self.form = {"CallSid": "CA" + secrets.token_hex(16), "AccountSid": "AC" + "0" * 32, "From": caller,
                     "To": LINE, "CallStatus": "in-progress", "Direction": "inbound", "ApiVersion": "2010-04-01"}
        self.listen = listen
        self.answer = answer

    def post(self, path: str, fields: dict[str, str]) -> ET.Element:
        form = {**self.form, **fields}
        signature = self.validator.compute_signature(self.base + path, form)
        response = self.client.post(path, data=form, headers={"X-Twilio-Signature": signature})
        if response.status_code != 200:
            raise click.ClickException(f"/voice answered {response.status_code}: {response.get_data(as_text=True)}")
        return ET.fromstring(response.data)

    def hear(self, element: ET.Element) -> None:
        if element.tag == "Say":
            self.listen(f"  [{element.get('language')}] {element.text}")
        elif element.tag == "Play":
            self.listen(f"  [recording {element.text.rsplit('/', 1)[-1]}]")

    def run(self) -> None:
        path, fields = "/voice", {}
        while path:
            root = self.post(path, fields)
            path = None
            for element in root:
                if element.tag in ("Say", "Play"):
                    self.hear(element)
                elif element.tag == "Gather":
                    for prompt in element:
                        self.hear(prompt)
                    typed = self.answer("key or words (empty: silence)").strip()
                    if typed:
                        key = len(typed) == 1 and typed in "0123456789*#"
                        path, fields = self.step(element), {"Digits" if key else "SpeechResult": typed}
                        break
                elif element.tag == "Dial":
                    self.listen(f"  [rings {element.findtext('Number')} for {element.get('timeout')} s]")
                    picked = self.answer("did staff pick up? (y/n)").strip().lower().startswith("y")
                    path, fields = self.step(element), {"DialCallStatus": "completed" if picked else "no-answer"}
                    break
                elif element.tag == "Hangup":
                    self.listen("  [the line hangs up]")
                    return

    def step(self, element: ET.Element) -> str:
        return element.get("action").removeprefix(self.base)


@bp.cli.command("call")
@click.option("--caller", default=CALLER, show_default=True, help="The number the call comes from.")
def call_command(caller: str) -> None:
    """Play a call to the voice line in this terminal (signed like Twilio; no phone needed)."""
    settings = current_app.extensions["kyr"].settings
    if not settings.twilio_auth_token:
        raise click.ClickException("set TWILIO_AUTH_TOKEN (any value, locally): /voice refuses unsigned calls")
    base = settings.public_url or "http://localhost"
    SimulatedCall(current_app.test_client(), settings.twilio_auth_token, base, caller, click.echo,
                  lambda question: click.prompt(question, default="", show_default=False)).run()
