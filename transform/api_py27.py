"""Python 2.7 dict iteration order, for the few places where the reference transform's output depends on it.

The reference keeps its deployment hashes stable across Python versions by emulating Python 2.7 dicts for
templates with REST APIs: resources, events and swagger paths iterate in the order a Python 2.7 dict would
give (by string hash and insertion history). That order decides, for instance, which of ``/a`` and ``/a/``
gets the CORS preflight, and which API's settings a shared usage plan ends with. lamctl computes that order
here (string hash and open addressing as in CPython 2.7's ``dictobject.c``) instead of emulating whole dicts.
"""

from __future__ import annotations

from typing import Iterable

MINSIZE = 8
PERTURB_SHIFT = 5
_MASK64 = 0xFFFFFFFFFFFFFFFF
_DUMMY = object()


def string_hash(value: str) -> int:
    """CPython 2.7's ``string_hash`` (no randomization), as an unsigned 64-bit value."""
    if not value:
        return 0
    x = (ord(value[0]) << 7) & _MASK64
    for c in value:
        x = ((1000003 * x) ^ ord(c)) & _MASK64
    x ^= len(value)
    return x & _MASK64


class Py27Keys:
    """The slot table of a Python 2.7 dict: add, remove, and iterate keys in its order."""

    def __init__(self, keys: Iterable[str] = ()):
        self.slots: dict[int, object] = {}
        self.size = 0
        self.fill = 0
        self.mask = MINSIZE - 1
        for key in keys:
            self.add(key)

    def _index(self, key: str) -> int:
        h = string_hash(key)
        i = h & self.mask
        if i not in self.slots or self.slots[i] == key:
            return i
        free = i if self.slots[i] is _DUMMY else None
        walker, perturb = i, h
        while i in self.slots and self.slots[i] != key:
            walker = (walker << 2) + walker + perturb + 1
            i = walker & self.mask
            if i not in self.slots:
                return i if free is None else free
            if self.slots[i] == key:
                return i
            if free is None and self.slots[i] is _DUMMY:
                free = i
            perturb >>= PERTURB_SHIFT
        return i

    def add(self, key: str) -> None:
        start = self.size
        i = self._index(key)
        if i not in self.slots:
            self.size += 1
            self.fill += 1
            self.slots[i] = key
        else:
            if self.slots[i] is _DUMMY:
                self.size += 1
            self.slots[i] = key
        if self.size > start and self.fill * 3 >= (self.mask + 1) * 2:
            self._resize(self.size * (2 if self.size > 50000 else 4))

    def remove(self, key: str) -> None:
        i = self._index(key)
        if i in self.slots and self.slots[i] is not _DUMMY:
            self.slots[i] = _DUMMY
            self.size -= 1

    def _resize(self, request: int) -> None:
        size = MINSIZE
        while size <= request:
            size <<= 1
        old = self.slots
        self.slots, self.size, self.fill, self.mask = {}, 0, 0, size - 1
        for i in sorted(old):
            if old[i] is not _DUMMY:
                self.add(old[i])  # type: ignore[arg-type]

    def keys(self) -> list[str]:
        return [self.slots[i] for i in sorted(self.slots) if self.slots[i] is not _DUMMY]  # type: ignore[misc]


def py27_order(keys: Iterable[str]) -> list[str]:
    """The iteration order of a Python 2.7 dict into which ``keys`` were inserted in this order."""
    return Py27Keys(k for k in keys if isinstance(k, str)).keys()
