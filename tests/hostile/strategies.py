"""Hypothesis strategies for hostile ingestion input: odd text, odd numbers, odd times, odd ids."""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import strategies as st

# Text PostgreSQL or JSON may choke on: NUL, lone surrogates (as JSON "\ud800" escapes decode to),
# control characters, right-to-left and astral characters, and a few long ones.
ODD_TEXT = [
    "",
    "\x00",
    "a\x00b",
    "\ud800",
    "x\udfffy",
    "\ud83d",  # half of an emoji
    "line\nbreak\r\n",
    "\t\x0b\x0c\x1b[31m",
    "\u202eevil",
    "𝔘𝔫𝔦𝔠𝔬𝔡𝔢 ✓ 日本語",
    "\ufeffbom",
    "\\u0000",
    "' OR 1=1 --",
    "%00%ff",
    "../../etc/passwd",
    "a" * 10_000,
]
HUGE_TEXT = "h" * 2_000_000

text = st.one_of(
    st.text(max_size=40),
    st.sampled_from(ODD_TEXT),
    st.text(st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF), min_size=1, max_size=4),
    st.text(st.characters(max_codepoint=0x1F), max_size=10),
)

numbers = st.one_of(
    st.integers(),
    st.integers(min_value=2**63 - 2, max_value=2**70),
    st.integers(min_value=-(2**70), max_value=-(2**63) + 2),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([0, -0.0, 1e308, -1e308, 5e-324, 2**53 + 1]),
)

scalars = st.one_of(st.none(), st.booleans(), numbers, text)


def json_values(max_leaves: int = 20) -> st.SearchStrategy:
    return st.recursive(
        scalars,
        lambda children: st.one_of(
            st.lists(children, max_size=4),
            st.dictionaries(text, children, max_size=4),
        ),
        max_leaves=max_leaves,
    )


def deep(value, depth: int, as_list: bool) -> object:
    for _ in range(depth):
        value = [value] if as_list else {"k": value}
    return value


deep_values = st.builds(deep, scalars, st.integers(min_value=50, max_value=400), st.booleans())
values = st.one_of(json_values(), deep_values, st.just(HUGE_TEXT))

ODD_TIMES = [
    "0000-01-01T00:00:00Z",
    "0001-01-01T00:00:00+14:00",
    "0001-01-01T00:00:00Z",
    "9999-12-31T23:59:59-14:00",
    "9999-12-31T23:59:59.999999Z",
    "10000-01-01T00:00:00Z",
    "-0001-01-01T00:00:00Z",
    "2026-02-30T00:00:00Z",
    "2026-01-01T25:00:00Z",
    "2026-01-01T00:00:00+99:00",
    "not a date",
    "",
    "\x00",
    0,
    -1,
    -(10**11),
    10**11 + 1,
    1e30,
    -1e30,
    2**64,
    -(2**64),
    1.5,
    True,
    [],
    {},
]
timestamps = st.one_of(
    st.sampled_from(ODD_TIMES),
    st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30)).map(
        lambda d: d.replace(tzinfo=UTC).isoformat().replace("+00:00", "Z")
    ),
    numbers,
)

ODD_IDS = [
    " ",
    "space in id",
    "slash/in/id",
    "back\\slash",
    "ünïcødé-✓-𝔘",
    "line\nbreak",
    "a\x00b",
    "\ud800",
    "x" * 800,
    "x" * 801,
    "x" * 1000,
    "..",
    "?#%",
    "",
]
ids = st.one_of(
    st.sampled_from(ODD_IDS), st.text(min_size=1, max_size=60), st.integers(), st.none(), st.booleans()
)
