"""What the prompt domain refuses, each with a message a person can act on."""

from __future__ import annotations


class PromptError(Exception):
    """A request the domain refuses; the message says what to change. API: 400."""


class PromptNotFound(PromptError):
    """API: 404."""


class ProtectedLabelError(PromptError):
    """Moving a protected label without the role for it. API and UI: 403."""


class CompositionError(PromptError):
    """A reference that cannot be resolved: missing, a loop, too deep, or a chat prompt. API: 400."""
