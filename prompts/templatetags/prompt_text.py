"""Template filters for showing prompt content: variables highlighted."""

from __future__ import annotations

from django import template
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from prompts.variables import VARIABLE_RE

register = template.Library()


@register.filter
def highlight_variables(text: str) -> SafeString:
    """Escape the text, then wrap each {{variable}} in <mark class="var">."""
    escaped = escape(text or "")
    return mark_safe(VARIABLE_RE.sub(lambda m: f'<mark class="var">{m.group(0)}</mark>', escaped))  # noqa: S308
