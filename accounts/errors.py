"""The one exception a domain action raises when a request is understood but not allowed."""

from __future__ import annotations


class ActionRefused(Exception):
    """The action would break a rule (last owner, duplicate name, expired invitation...).

    The message is written for the person who asked: views show it, the API returns it.
    """
