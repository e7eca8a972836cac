"""Print each English text's length and Flesch-Kincaid grade: a writer's aid (make check-content enforces limits).

Usage: .venv/bin/python scripts/grade_topics.py [responses/topics/X.yml ...]
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.content.texts import load_topic  # noqa: E402
from bot.content.readability import grade  # noqa: E402

paths = [Path(p) for p in sys.argv[1:]] or sorted(Path("responses/topics").glob("*.yml"))
for path in paths:
    topic = load_topic(path)
    for key in topic.keys():
        if key.endswith("menu_label"):
            continue
        text = topic.english(key)
        print(f"{key:<45} {len(text):>5} chars  grade {grade(text):>5}")
