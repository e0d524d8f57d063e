"""count_words: one rule for every text, whichever of its two patterns reads it."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from core.text import count_words

THE_RULE = re.compile(r"\w+(?:['’\-]\w+)*")  # letters or digits, inner apostrophes and hyphens


def test_the_examples_the_rule_names():
    assert count_words("Give me a 4-3-3 rondo") == 5
    assert count_words("don't stop, it’s a one-two") == 5
    assert count_words("--- ''' — …") == 0
    assert count_words("Müller passt zu Özil") == 4
    assert count_words("") == count_words(None) == 0


@settings(max_examples=300, deadline=None)
@given(
    st.text(alphabet=st.sampled_from("ab1_ -'’\n.,é€\u00a0ß")) | st.text(),
)
def test_ascii_and_unicode_text_count_as_the_one_rule_says(text):
    assert count_words(text) == len(THE_RULE.findall(text))
