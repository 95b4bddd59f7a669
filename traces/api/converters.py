"""URL converters of the public API.

`anypath` is Django's `path` converter that also matches newlines: ids and prompt names are
free text (a trace id may hold a newline), and `path` (`.+`) would leave such a URL unmatched.
"""

from __future__ import annotations

from django.urls import register_converter
from django.urls.converters import PathConverter


class AnyPathConverter(PathConverter):
    regex = "(?s:.+)"


register_converter(AnyPathConverter, "anypath")
