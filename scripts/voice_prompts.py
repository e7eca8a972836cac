"""Make the placeholder recordings for languages Twilio cannot read aloud (Haitian Creole).

    .venv/bin/python scripts/voice_prompts.py [--lang ht] [--out bot/static/voice]

Each prompt of the voice line (bot/channels/voice/prompts.py ``recording_names``) is synthesized
with espeak-ng's voice for the language from the same texts the line uses (responses/ and
locales/), then written as 8 kHz mono 16-bit WAV, the telephone's own rate. They are machine
placeholders: an organization replaces each file with a recording by a native speaker, same name.
Run again after changing the voice texts, the menu or the national hotline (the hotline number is
in hotline.wav and nobody.wav). The files are committed; nothing is generated at test or run time.
"""

from __future__ import annotations

import argparse
import audioop  # deprecated in 3.13; the app runs on 3.11
import io
import shutil
import subprocess
import sys
import wave
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.channels.voice.prompts import recording_names, text_key  # noqa: E402
from bot.channels.voice.speech import for_the_ear, read_numbers  # noqa: E402
from bot.config import PROJECT_ROOT  # noqa: E402
from bot.content.texts import GROUP_PREFIX, ContentBase  # noqa: E402
from bot.language.languages import SUPPORTED_LANGUAGES  # noqa: E402

RATE = 8000
#: espeak-ng words per minute: a little slower than its default 175, for a phone line.
WORDS_PER_MINUTE = 150


def prompt_text(content: ContentBase, name: str, lang: str) -> str:
    """What the recording called ``name`` says, in ``lang``."""
    menu_end = content.text("system.voice_menu_end", lang)
    if name == "menu":
        return f"{for_the_ear((content.menu_text(lang),), lang, content).text} {menu_end}"
    if name.startswith("menu-"):
        group = GROUP_PREFIX + name.removeprefix("menu-")
        return f"{for_the_ear((content.menu_text(lang, group),), lang, content).text} {menu_end}"
    if name == "language_option":
        return content.text(text_key(name), lang, {"digit": str(SUPPORTED_LANGUAGES.index(lang) + 1)})
    return read_numbers(content.text(text_key(name), lang))


def synthesize(text: str, voice: str) -> bytes:
    """espeak-ng's WAV for ``text``, resampled to 8 kHz mono 16-bit."""
    raw = subprocess.run(["espeak-ng", "-v", voice, "-s", str(WORDS_PER_MINUTE), "--stdout", text],
                         check=True, capture_output=True).stdout
    with wave.open(io.BytesIO(raw)) as source:
        frames = source.readframes(source.getnframes())
        width, channels, rate = source.getsampwidth(), source.getnchannels(), source.getframerate()
    if channels == 2:
        frames = audioop.tomono(frames, width, 0.5, 0.5)
    frames, _ = audioop.ratecv(frames, width, 1, rate, RATE, None)
    if width != 2:
        frames = audioop.lin2lin(frames, width, 2)
    out = io.BytesIO()
    with wave.open(out, "wb") as target:
        target.setnchannels(1)
        target.setsampwidth(2)
        target.setframerate(RATE)
        target.writeframes(frames)
    return out.getvalue()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lang", default="ht")
    parser.add_argument("--out", type=Path, default=PROJECT_ROOT / "bot" / "static" / "voice")
    args = parser.parse_args(argv)
    if not shutil.which("espeak-ng"):
        print("espeak-ng is not installed (apt-get install espeak-ng)", file=sys.stderr)
        return 1
    content = ContentBase(PROJECT_ROOT / "responses", PROJECT_ROOT / "locales", SUPPORTED_LANGUAGES)
    folder = args.out / args.lang
    folder.mkdir(parents=True, exist_ok=True)
    for name in recording_names(content):
        data = synthesize(prompt_text(content, name, args.lang), args.lang)
        (folder / f"{name}.wav").write_bytes(data)
        print(f"{folder / name}.wav  {len(data) // 1024} kB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
