"""The Markdown export renders safely anywhere: a coach's or a model's HTML stays text.

Rendered with markdown-it-py in CommonMark mode with raw HTML on, as many viewers render it
(GitHub, editors, static-site tools before any sanitiser).
"""

from __future__ import annotations

import re

import pytest
from markdown_it import MarkdownIt

from core.markdown_export import drill_markdown, session_markdown

HOSTILE = [
    '<img src=x onerror="alert(1)">',
    "<script>alert(2)</script>",
    "</details></summary><h1>not a heading</h1>",
    '<a href="javascript:alert(3)">click</a>',
    "<iframe src=//evil.example></iframe>",
    "<!-- hidden --> <style>body{display:none}</style>",
    "Q&A: 3 < 5 &amp; 7 > 2",
]
RENDER = MarkdownIt("commonmark", {"html": True})
# Tags a message brought (the export's own are headings, lists, code and one details block).
ACTIVE = re.compile(r"<(script|img|iframe|style|a\b|!--|h1>not)", re.IGNORECASE)


def _rendered(markdown: str) -> str:
    return RENDER.render(markdown)


@pytest.fixture
def hostile_session(store, coach):
    chat = store.create_session(coach.id, title="<b>Set</b> pieces")
    for text in HOSTILE:
        store.add_message(coach.id, chat.id, "user", text)
    reply = store.add_message(
        coach.id,
        chat.id,
        "assistant",
        "Here is **bold**, `<b>code</b>` inline, and a block:\n\n```html\n<b>kept</b>\n```\n"
        "<script>alert(4)</script>",
    )
    store.record_tool_call(
        coach.id,
        chat.id,
        message_id=reply.id,
        tool_use_id="toolu_1",
        name="search_history",
        input={"query": "</details><script>alert(5)</script>"},
        output="</details><img src=x onerror=alert(6)>",
    )
    return chat


def test_no_html_of_a_message_or_a_tool_becomes_markup(store, coach, hostile_session):
    html = _rendered(session_markdown(store, coach.id, hostile_session.id))
    assert not ACTIVE.search(html), ACTIVE.search(html)
    # The tool call's own details block is whole: nothing inside closed it early.
    assert html.count("<details>") == html.count("</details>") == 1
    # Every hostile text is still there, as text.
    for snippet in ("alert(1)", "alert(2)", "not a heading", "javascript:alert(3)", "evil"):
        assert snippet in html
    assert "Q&amp;A: 3 &lt; 5 &amp;amp; 7 &gt; 2" in html  # shown exactly as typed
    # Markdown still works, and code shows its text as it is (escaped once, not twice).
    assert "<strong>bold</strong>" in html
    assert "<code>&lt;b&gt;code&lt;/b&gt;</code>" in html
    assert "&lt;b&gt;kept&lt;/b&gt;" in html and "&amp;lt;" not in html.split("Q&amp;A")[0]


def test_a_drill_card_renders_safely_too(store, coach):
    drill = store.create_drill(
        coach.id,
        title="<script>alert(1)</script> Rondo",
        objective='<img src=x onerror="alert(2)"> keep the ball',
        setup="</details> 4 v 2 in a 10 x 10 m grid",
        steps=["<iframe src=//x></iframe> pass", "move"],
        coaching_points=["<b>open</b> body"],
    )
    html = _rendered(drill_markdown(drill))
    assert not ACTIVE.search(html)
    assert "keep the ball" in html and "4 v 2" in html and "open" in html
