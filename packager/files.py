"""Walking a code folder: which files go into an artifact, and why.

Rules, in order (the last rule that matches a path decides, as in gitignore):

1. the default excludes (:data:`DEFAULT_EXCLUDES`), then the files that often hold
   credentials (:data:`SECRET_EXCLUDES`, and a ``*.pem`` / ``*.key`` holding a
   private key): these are named in :attr:`Walk.left_out` so that the build
   can say what it left out;
2. ``.lamctlignore`` beside the template (its patterns apply inside every code folder);
3. ``.lamctlignore`` in the code folder itself.

Patterns use gitignore syntax: ``#`` comments, ``!`` re-includes, a trailing
``/`` matches folders only, a ``/`` at the start or in the middle anchors the
pattern to the code folder, ``*``, ``?``, ``[...]`` and ``**``. As in git, a
file inside an excluded folder cannot be re-included (the folder is never
entered). The matcher is our own (patterns compiled to one regular
expression each), which keeps an unchanged rebuild free of extra imports.

Symlinks are followed only while they stay inside the code folder; one that
leads outside (or nowhere) is an error naming it. Sockets, devices and FIFOs
are refused. Nothing here reads file contents, except the first bytes of a
``*.pem`` / ``*.key`` file, to tell a private key (left out) from a certificate.
"""

from __future__ import annotations

import os
import re
import stat as stat_mod
from dataclasses import dataclass, field
from typing import Iterable

from lamctl.schemas.errors import UsageError, location

IGNORE_FILE = ".lamctlignore"

DEFAULT_EXCLUDES = (
    ".git",
    "__pycache__",
    "*.pyc",
    ".venv",
    "venv",
    ".lamctl",
    ".pytest_cache",
    IGNORE_FILE,
)

# Files that often hold credentials: left out by default, each named in the build output, and put back by
# "!NAME" in .lamctlignore. A function rarely needs one; a developer's credentials in S3 are a leak.
SECRET_EXCLUDES = (
    ".env*",  # .env, .env.local, .env.production, .envrc
    ".aws",
    ".ssh",
    ".git-credentials",
    ".netrc",
    ".npmrc",
    ".pypirc",
    "id_rsa",
    "id_dsa",
    "id_ecdsa",
    "id_ed25519",
    "id_ecdsa_sk",
    "id_ed25519_sk",
)
# Left out when their first bytes hold a PEM private key (a certificate alone is kept).
KEY_SUFFIXES = (".pem", ".key")
PRIVATE_KEY_MARK = re.compile(rb"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY-----")
KEY_SNIFF_BYTES = 65536


@dataclass(frozen=True)
class Rule:
    pattern: str  # as written
    negate: bool
    dir_only: bool
    regex: "re.Pattern[str]"
    source: str  # "default" or file:line
    basename: bool = False  # no "/" in the pattern: it matches the last path segment, at any depth
    secret: bool = False  # one of SECRET_EXCLUDES: what it leaves out is named in the build output

    def describe(self) -> str:
        if self.source != "default":
            return f"{self.source} {self.pattern!r}"
        return f"default exclude {self.pattern!r}" + (" (files that often hold credentials)" if self.secret else "")


@dataclass(frozen=True)
class Entry:
    """One file to archive. ``path`` is where to read it; ``arcname`` is its name in the zip."""

    arcname: str
    path: str
    size: int
    mtime_ns: int
    ino: int
    executable: bool


def _glob_to_regex(segment: str, where: str) -> str:
    """One path segment of a gitignore pattern (no ``/``) to a regex fragment."""
    out = []
    i, n = 0, len(segment)
    while i < n:
        c = segment[i]
        if c == "\\":
            if i + 1 < n:
                out.append(re.escape(segment[i + 1]))
                i += 2
                continue
            raise UsageError(f"pattern ends with a lone backslash: {segment!r}", where=where,
                             hint="escape a literal backslash as \\\\")
        if c == "*":
            out.append("[^/]*")
        elif c == "?":
            out.append("[^/]")
        elif c == "[":
            j = i + 1
            if j < n and segment[j] in "!^":
                j += 1
            if j < n and segment[j] == "]":
                j += 1
            while j < n and segment[j] != "]":
                j += 1
            if j >= n:  # no closing bracket: a literal '[' (as git does)
                out.append(re.escape(c))
            else:
                body = segment[i + 1:j]
                if body[:1] in ("!", "^"):
                    body = "^" + body[1:]
                body = body.replace("[", "\\[")
                out.append("(?!/)[" + body + "]")
                i = j
        else:
            out.append(re.escape(c))
        i += 1
    return "".join(out)


def compile_pattern(line: str, source: str) -> Rule | None:
    """A gitignore line to a :class:`Rule` (None for blanks and comments)."""
    raw = line.rstrip("\n").rstrip("\r")
    # trailing spaces are ignored unless escaped
    stripped = raw.rstrip(" ")
    if stripped.endswith("\\") and len(raw) > len(stripped):
        stripped += " "
    text = stripped
    if not text or text.startswith("#"):
        return None
    negate = False
    if text.startswith("!"):
        negate = True
        text = text[1:]
    elif text.startswith("\\!") or text.startswith("\\#"):
        text = text[1:]
    dir_only = text.endswith("/") and not text.endswith("\\/")
    if dir_only:
        text = text.rstrip("/")
    if not text:
        return None
    anchored = "/" in text
    text = text.lstrip("/")
    parts = text.split("/")
    rx = []
    for k, part in enumerate(parts):
        last = k == len(parts) - 1
        if part == "**":
            if k == 0 and last:
                rx.append(".+")
            elif k == 0:
                rx.append("(?:.+/)?")
            elif last:
                rx.append("/.+")
            else:
                rx.append("/(?:.+/)?")
            continue
        frag = _glob_to_regex(part, source)
        if k > 0 and parts[k - 1] != "**":
            rx.append("/")
        rx.append(frag)
    body = "".join(rx)
    # A pattern without "/" matches a name at any depth: it is matched against the last segment only.
    try:
        regex = re.compile("^" + body + "$", re.DOTALL)
    except re.error as exc:
        raise UsageError(f"invalid pattern {raw!r}: {exc}", where=source,
                         hint="fix the pattern (gitignore syntax)") from None
    return Rule(pattern=raw.strip(), negate=negate, dir_only=dir_only, regex=regex, source=source,
                basename=not anchored)


def read_ignore_file(path: str) -> list[Rule]:
    """Rules of one ``.lamctlignore`` (empty when the file does not exist)."""
    try:
        with open(path, "rb") as fh:
            raw = fh.read()
    except FileNotFoundError:
        return []
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror}", where=path) from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise UsageError("the ignore file is not UTF-8", where=location(path, line),
                         hint="save .lamctlignore as UTF-8") from None
    rules = []
    for number, line in enumerate(text.split("\n"), start=1):
        rule = compile_pattern(line, location(path, number))
        if rule is not None:
            rules.append(rule)
    return rules


class Matcher:
    """Decides include / exclude for paths relative to a code folder (``/``-separated)."""

    def __init__(self, rules: Iterable[Rule]):
        self.rules = list(rules)
        # one combined regex per kind answers "does any rule match?" for the common case of none
        names = [r for r in self.rules if r.basename]
        paths = [r for r in self.rules if not r.basename]
        self._any_name = re.compile("|".join(f"(?:{r.regex.pattern})" for r in names), re.DOTALL) if names else None
        self._any_path = re.compile("|".join(f"(?:{r.regex.pattern})" for r in paths), re.DOTALL) if paths else None

    def decide(self, rel: str, is_dir: bool) -> Rule | None:
        """The rule that decides ``rel`` (the last that matches), or None when no rule does."""
        name = rel[rel.rfind("/") + 1:]
        if not ((self._any_name is not None and self._any_name.match(name))
                or (self._any_path is not None and self._any_path.match(rel))):
            return None
        for rule in reversed(self.rules):
            if rule.dir_only and not is_dir:
                continue
            if rule.regex.match(name if rule.basename else rel):
                return rule
        return None

    def excluded(self, rel: str, is_dir: bool) -> bool:
        rule = self.decide(rel, is_dir)
        return rule is not None and not rule.negate


def default_rules() -> list[Rule]:
    """The default excludes, then the secret-by-name ones (flagged ``secret``)."""
    import dataclasses

    rules = [compile_pattern(p, "default") for p in DEFAULT_EXCLUDES]
    rules += [dataclasses.replace(compile_pattern(p, "default"), secret=True) for p in SECRET_EXCLUDES]
    return [r for r in rules if r is not None]


def holds_private_key(path: str) -> bool:
    """A ``*.pem`` / ``*.key`` file whose first bytes hold a PEM private key."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(KEY_SNIFF_BYTES)
    except OSError:
        return False
    return PRIVATE_KEY_MARK.search(head) is not None


def _key_candidate(rel: str) -> bool:
    return rel.lower().endswith(KEY_SUFFIXES)


def matcher_for(code_dir: str, template_dir: str | None) -> Matcher:
    rules = default_rules()
    seen = set()
    for folder in (template_dir, code_dir):
        if folder is None:
            continue
        path = os.path.join(folder, IGNORE_FILE)
        real = os.path.realpath(path)
        if real in seen:
            continue
        seen.add(real)
        rules.extend(read_ignore_file(path))
    return Matcher([r for r in rules if r is not None])


@dataclass
class Walk:
    entries: list[Entry]
    total_bytes: int
    # paths left out because they often hold credentials (a folder ends with "/"; a private key file
    # says so), sorted: the build names each one
    left_out: list[str] = field(default_factory=list)


def walk(code_dir: str, matcher: Matcher, *, owner: str, skip: Iterable[str] = ()) -> Walk:
    """Every file under ``code_dir`` that the rules keep, sorted bytewise by archive name.

    ``owner`` names the artifact in errors; ``skip`` holds real paths never to enter (the build dir)."""
    root = os.path.realpath(code_dir)
    skip_real = {os.path.realpath(s) for s in skip}
    entries: list[Entry] = []
    left_out: list[str] = []
    total = 0

    def out(rel: str, is_dir: bool) -> bool:
        rule = matcher.decide(rel, is_dir)
        if rule is None or rule.negate:
            return False
        if rule.secret:
            left_out.append(rel + "/" if is_dir else rel)
        return True
    root_prefix = root + os.sep
    # (folder to list, archive prefix, real paths of the folders above it: a cycle guard)
    stack: list[tuple[str, str, frozenset]] = [(root, "", frozenset([root]))]
    while stack:
        folder, prefix, ancestors = stack.pop()
        try:
            it = os.scandir(folder)
        except OSError as exc:
            raise UsageError(f"cannot read folder {folder}: {exc.strerror}", where=owner) from None
        with it:
            for de in it:
                name = de.name
                rel = prefix + name
                is_link = de.is_symlink()
                if is_link:
                    try:
                        st = os.stat(de.path)  # follows the link
                    except OSError:
                        st = None
                    if out(rel, st is not None and stat_mod.S_ISDIR(st.st_mode)):
                        continue
                    target = os.path.realpath(de.path)
                    if target != root and not target.startswith(root_prefix):
                        raise UsageError(
                            f"symlink {rel} in {code_dir} leads outside the code folder (to {target})",
                            where=owner,
                            hint=f"copy what it points to into the folder, or add {rel} to {IGNORE_FILE}")
                    if st is None:
                        raise UsageError(f"symlink {rel} in {code_dir} points to nothing", where=owner,
                                         hint=f"remove it, or add {rel} to {IGNORE_FILE}")
                elif de.is_dir(follow_symlinks=False):
                    if out(rel, True):
                        continue
                    real = os.path.join(folder, name)
                    if real not in skip_real:
                        stack.append((real, rel + "/", ancestors))
                    continue
                else:
                    try:
                        st = de.stat(follow_symlinks=False)
                    except FileNotFoundError:  # removed while we were walking
                        continue
                mode = st.st_mode
                if stat_mod.S_ISDIR(mode):
                    if out(rel, True):
                        continue
                    real = os.path.realpath(de.path) if is_link else os.path.join(folder, name)
                    if real in skip_real:
                        continue
                    if is_link and real in ancestors:
                        raise UsageError(f"symlink {rel} in {code_dir} makes a loop", where=owner,
                                         hint=f"remove it, or add {rel} to {IGNORE_FILE}")
                    stack.append((real, rel + "/", ancestors | {real} if is_link else ancestors))
                    continue
                if out(rel, False):
                    continue
                if (_key_candidate(name) and stat_mod.S_ISREG(mode) and matcher.decide(rel, False) is None
                        and holds_private_key(de.path)):  # "!NAME" in .lamctlignore ships it anyway
                    left_out.append(f"{rel} (a private key)")
                    continue
                if not stat_mod.S_ISREG(mode):
                    kind = ("a socket" if stat_mod.S_ISSOCK(mode) else "a FIFO" if stat_mod.S_ISFIFO(mode)
                            else "a device" if (stat_mod.S_ISCHR(mode) or stat_mod.S_ISBLK(mode))
                            else "not a regular file")
                    raise UsageError(f"{rel} in {code_dir} is {kind}; only files and folders can be archived",
                                     where=owner, hint=f"remove it, or add {rel} to {IGNORE_FILE}")
                entries.append(Entry(rel, de.path, st.st_size, st.st_mtime_ns, st.st_ino,
                                     bool(mode & 0o111)))
                total += st.st_size
    _check_names(entries, code_dir, owner)
    entries.sort(key=_sort_key)
    left_out.sort()
    return Walk(entries, total, left_out)


def _sort_key(e: Entry) -> bytes:
    return e.arcname.encode("utf-8", "surrogateescape")


def _check_names(entries: list[Entry], code_dir: str, owner: str) -> None:
    for e in entries:
        try:
            e.arcname.encode("utf-8")
        except UnicodeEncodeError:
            raise UsageError(f"file name {e.arcname!r} in {code_dir} is not valid UTF-8", where=owner,
                             hint="rename the file; zip names must be UTF-8") from None


def sort_entries(entries: list[Entry]) -> list[Entry]:
    return sorted(entries, key=_sort_key)


@dataclass(frozen=True)
class Explanation:
    path: str  # relative to the code folder
    included: bool
    reason: str
    rule: str | None = None  # file:line or "default"


def explain(code_dir: str, matcher: Matcher, rel: str) -> Explanation:
    """Why ``rel`` (relative to ``code_dir``) is in or out: the deciding rule, or the excluded folder above it."""
    rel = rel.replace(os.sep, "/").strip("/")
    parts = [p for p in rel.split("/") if p not in ("", ".")]
    full = os.path.join(code_dir, *parts) if parts else code_dir
    is_dir = os.path.isdir(full)
    for k in range(1, len(parts)):
        parent = "/".join(parts[:k])
        rule = matcher.decide(parent, True)
        if rule is not None and not rule.negate:
            return Explanation(rel, False, f"its folder {parent}/ is excluded by {rule.describe()}"
                               + (" (a file inside an excluded folder cannot be re-included)"
                                  if _any_negation_matches(matcher, rel, is_dir) else ""), rule.source)
    rule = matcher.decide(rel, is_dir)
    if rule is None and not is_dir and _key_candidate(rel) and holds_private_key(full):
        return Explanation(rel, False, "excluded: it holds a private key (put it back with "
                                       f"'!{rel.rsplit('/', 1)[-1]}' in {IGNORE_FILE})", "default")
    if rule is None:
        return Explanation(rel, True, "included: no rule matches it", None)
    if rule.negate:
        return Explanation(rel, True, f"included: re-included by {rule.describe()}", rule.source)
    return Explanation(rel, False, f"excluded by {rule.describe()}", rule.source)


def _any_negation_matches(matcher: Matcher, rel: str, is_dir: bool) -> bool:
    name = rel.rsplit("/", 1)[-1]
    return any(r.negate and r.regex.match(name if r.basename else rel) and (is_dir or not r.dir_only)
               for r in matcher.rules)
