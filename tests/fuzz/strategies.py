"""Strategies shared by the fuzz suites: JSON that nests deep, text that is not text."""

from hypothesis import strategies as st

# Text with what breaks naive code: NUL, lone surrogates, full-width and combining marks.
nasty_text = st.one_of(
    st.text(max_size=30),
    st.sampled_from(["\x00", "\ud800", "\udfff", "ｱｲｳ", "が", "\u202e", "🎌", "A" * 300]),
)
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.sampled_from([0, -1, 2**31 - 1, 2**53 - 1, 2**53, 2**63, 10**20]),
    st.floats(allow_nan=False, allow_infinity=False),
    nasty_text,
)
json_values = st.recursive(
    scalars,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(nasty_text, children, max_size=4)
    ),
    max_leaves=25,
)


def nested(depth: int, leaf: str = "0") -> str:
    """JSON text of ``depth`` arrays around ``leaf``, as an attacker would send it."""
    return "[" * depth + leaf + "]" * depth


depths = st.one_of(st.integers(0, 80), st.sampled_from([500, 999, 1_000, 5_000, 20_000]))
