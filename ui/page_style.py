"""What Streamlit has no Python API for: the page's small style sheet and scripts.

- On a phone's narrow screen Streamlit stacks columns (below 640 px) and slides the sidebar
  over the page (768 px and less). There the drill page shows its card above the chat with
  neither in a fixed-height pane of its own, a sidebar row keeps its ⋮ menu beside it, and
  choosing a page or a conversation in the sidebar closes it, as a phone's menus do.
- The chat box counts characters once a message nears the length limit (st.chat_input
  counts only with max_chars, which drops a longer paste without a word: ui/turn.py).
- The ⋮ menu's label names it for screen readers; on the screen only the icon shows.

Drawn once a run by the entry (ui/shell.py); the scripts install themselves once a tab.
"""

from __future__ import annotations

import json

import streamlit as st

DRILL_PANE_KEY = "huddle_drill_pane"
CHAT_PANE_KEY = "huddle_chat_pane"
MENU_KEY_PREFIX = "huddle_menu_"
ROW_KEY_PREFIX = "huddle_row_"
# The counter shows from this share of the limit on.
COUNT_FROM = 0.8

ROW = f'[class*="st-key-{ROW_KEY_PREFIX}"]'
MENU = f'[class*="st-key-{MENU_KEY_PREFIX}"]'

STYLE = f"""<style>
@media (max-width: 640px) {{
  .st-key-{DRILL_PANE_KEY}, .st-key-{CHAT_PANE_KEY},
  :has(> .st-key-{DRILL_PANE_KEY}), :has(> .st-key-{CHAT_PANE_KEY}) {{
    height: auto !important; max-height: none !important; overflow: visible !important;
  }}
  [data-testid=stColumn]:has(.st-key-{DRILL_PANE_KEY}) {{ order: -1; }}
}}
{ROW} {{ flex-wrap: nowrap !important; }}
{ROW} > .stElementContainer {{ flex-shrink: 1 !important; }}
{ROW} > .stElementContainer, {ROW} > .stElementContainer * {{ min-width: 0; max-width: 100%; }}
{ROW} > {MENU} {{ flex-shrink: 0; margin-left: auto; }}
{MENU} button [data-testid=stMarkdownContainer] {{
  position: absolute !important; width: 1px; height: 1px; overflow: hidden;
  clip-path: inset(50%); white-space: nowrap;
}}
[data-testid=stChatInput] {{ position: relative; }}
.huddle-char-count {{
  position: absolute; right: 0.75rem; top: -1.6rem; padding: 0 0.4rem;
  font-size: 0.8rem; white-space: nowrap;
  border-radius: 0.4rem; background: #ffffff; color: #56605b;
}}
.huddle-char-count[data-over="true"] {{ color: #b3261e; font-weight: 600; }}
</style>"""

CLOSE_SIDEBAR_SCRIPT = """(() => {
  if (window.huddleClosesSidebar) return;
  window.huddleClosesSidebar = true;
  const choices = "[data-testid=stSidebarNavLink], [class*='st-key-huddle_open_'] button, "
    + "[class*='st-key-huddle_new_'] button";
  document.addEventListener("click", (event) => {
    if (window.innerWidth > 768) return;
    const choice = event.target.closest(choices);
    if (!choice || !choice.closest("[data-testid=stSidebar]")) return;
    setTimeout(() => {
      const close = document.querySelector("[data-testid=stSidebarCollapseButton] button");
      const sidebar = document.querySelector("[data-testid=stSidebar]");
      if (close && sidebar && sidebar.dataset.collapsed !== "true") close.click();
    }, 0);
  }, true);
})();"""

# Counts characters as Python does (code points, not UTF-16 units). The box is re-read on
# every keystroke and a few times a second, since sending clears it without an input event.
COUNTER_SCRIPT = """(() => {
  window.huddleMessageLimit = %(limit)s;
  if (window.huddleCountsChars) return;
  window.huddleCountsChars = true;
  const format = (n) => n.toLocaleString("en-US");
  const update = () => {
    const limit = window.huddleMessageLimit;
    for (const box of document.querySelectorAll("[data-testid=stChatInputTextArea]")) {
      const input = box.closest("[data-testid=stChatInput]");
      if (!input) continue;
      let counter = input.querySelector(".huddle-char-count");
      const length = [...box.value].length;
      if (length < limit * %(from)s) { if (counter) counter.remove(); continue; }
      if (!counter) {
        counter = document.createElement("div");
        counter.className = "huddle-char-count";
        counter.dataset.testid = "huddleCharCount";
        counter.setAttribute("aria-live", "polite");
        input.appendChild(counter);
      }
      const over = length - limit;
      counter.dataset.over = String(over > 0);
      counter.textContent = `${format(length)} of ${format(limit)} characters`
        + (over > 0 ? ` · ${format(over)} too many` : "");
    }
  };
  document.addEventListener("input", update, true);
  setInterval(update, 300);
})();"""


def page_style(message_limit: int) -> None:
    """The style sheet and the scripts; `message_limit` is the chat box's length limit."""
    st.html(STYLE)
    counter = COUNTER_SCRIPT % {"limit": json.dumps(message_limit), "from": COUNT_FROM}
    st.sidebar.html(
        f"<script>{CLOSE_SIDEBAR_SCRIPT}\n{counter}</script>", unsafe_allow_javascript=True
    )
