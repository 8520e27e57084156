"""lamctl's Python 2.7 dict order (api_py27) against the reference's own emulation of it (samtranslator's
Py27Dict), for insertions, deletions and the resizes they trigger."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from lamctl.transform.api_py27 import Py27Keys, py27_order, string_hash

keys = st.text(alphabet="abcdefgXYZ0123/{}+_-$", min_size=0, max_size=14)


@settings(max_examples=300, deadline=None)
@given(inserted=st.lists(keys, max_size=60), removed=st.lists(st.integers(0, 59), max_size=5),
       added=st.lists(keys, max_size=5))
def test_order_matches_the_reference_emulation(inserted, removed, added):
    from samtranslator.utils.py27hash_fix import Py27Dict

    ref = Py27Dict()
    mine = Py27Keys()
    for k in inserted:
        ref[k] = 1
        mine.add(k)
    for i in removed:
        if inserted and inserted[i % len(inserted)] in ref:
            k = inserted[i % len(inserted)]
            del ref[k]
            mine.remove(k)
    for k in added:
        ref[k] = 1
        mine.add(k)
    assert mine.keys() == list(ref.keys())


def test_known_hash_values_and_a_reordering():
    # CPython 2.7 (64-bit): hash("a") == 12416037344, hash("") == 0
    assert string_hash("a") == 12416037344
    assert string_hash("") == 0
    order = py27_order(["/a", "/a/", "/b", "ServerlessRestApi"])
    assert sorted(order) == sorted(["/a", "/a/", "/b", "ServerlessRestApi"])
    assert order != ["/a", "/a/", "/b", "ServerlessRestApi"]  # not insertion order: slot order
