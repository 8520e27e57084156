"""New projects from the templates shipped in the package (``lamctl init``).

Each folder of ``project_templates/`` is one template in Python; ``NAME.nodejs/``
and ``NAME.go/`` are template NAME for the Node.js and Go runtimes (``RUNTIMES_OF``
says which templates have them). ``_common/`` is laid under every one and
``_ci/<system>/`` adds a CI system's files. Every file is
a jinja2 template (suffix ``.j2``, dropped on output; a leading ``dot-`` becomes
``.``). The delimiters are ``[[ ]]`` / ``[% %]`` so that GitHub's ``${{ }}``
passes through untouched.

:func:`render_project` only reads and returns the files; :func:`write_project`
refuses to overwrite any existing file (unless ``force``) before it writes
one, so a refusal leaves nothing half-done.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from importlib import resources

from lamctl.schemas.errors import UsageError

# name -> one line shown by `lamctl init --list`
TEMPLATES = {
    "hello-api": "a function behind an HTTP API (GET /hello)",
    "canary": "a function released by canary: AutoPublishAlias, DeploymentPreference, an alarm, a pre-traffic hook",
    "layer": "a function and the shared layer it imports its code from",
    "cold-start": "the cold-start experiment: which execution environment serves each call?",
}
# the function's name (after the stack's) that the pull-request workflow invokes and main.yml shifts
SMOKE_FUNCTION = {"hello-api": "hello", "canary": "app", "layer": "app", "cold-start": "counter"}
DEFAULT_TEMPLATE = "hello-api"
PYTHON_RUNTIMES = ("python3.13", "python3.12", "python3.11", "python3.10", "python3.9")
NODE_RUNTIMES = ("nodejs22.x", "nodejs20.x", "nodejs18.x")
# `--runtime go`: a Go function built by BuildMethod go1.x into a bootstrap for provided.al2023
RUNTIMES = PYTHON_RUNTIMES + NODE_RUNTIMES + ("go",)
DEFAULT_RUNTIME = "python3.12"
# the languages each template is written in (python, nodejs, go)
LANGUAGES = {"hello-api": ("python", "nodejs", "go"), "canary": ("python",), "layer": ("python",),
             "cold-start": ("python",)}
# what `lamctl init --list` shows in a template's Runtimes column, per language
LANGUAGE_RUNTIMES = {"python": "python3.9-3.13", "nodejs": "nodejs18.x-22.x", "go": "go"}
# a template's line when it is not in Python
DESCRIPTIONS = {("hello-api", "python"): "a Python function behind an HTTP API (GET /hello)",
                ("hello-api", "nodejs"): "a TypeScript function behind an HTTP API (GET /hello), bundled with esbuild",
                ("hello-api", "go"): "a Go function behind an HTTP API (GET /hello), on provided.al2023"}
# the Python lamctl runs on in the generated workflows when the functions are not in Python
ACTION_PYTHON = "3.12"
CI_SYSTEMS = ("github",)
# what the generated workflows run: the lamctl repository's action, at the tag of this lamctl release
ACTION_REPOSITORY = "lamctl/lamctl"
_STACK_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9-]{0,127}$")


@dataclass(frozen=True)
class ProjectFile:
    path: str  # relative, with / separators
    text: str
    executable: bool = False


def project_name(directory: str) -> str:
    """The stack name a folder gives: its name, with what CloudFormation refuses replaced by '-'."""
    base = os.path.basename(os.path.abspath(directory)) or "app"
    name = re.sub(r"[^A-Za-z0-9-]+", "-", base).strip("-")
    if not name or not name[0].isalpha():
        name = "app-" + name if name else "app"
    return name[:128]


def language(runtime: str) -> str:
    """python, nodejs or go: the language of a runtime lamctl init knows."""
    if runtime.startswith("python"):
        return "python"
    return "nodejs" if runtime.startswith("nodejs") else "go"


def runtimes_of(template: str) -> str:
    """The runtimes a template is available for, as `lamctl init --list` shows them."""
    return ", ".join(LANGUAGE_RUNTIMES[lang] for lang in LANGUAGES[template])


def _root():
    return resources.files("lamctl.packager") / "project_templates"


def _walk(folder, prefix: str = ""):
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if entry.is_dir():
            yield from _walk(entry, f"{prefix}{entry.name}/")
        elif entry.name.endswith(".j2"):
            yield f"{prefix}{entry.name}", entry


def _out_path(rel: str) -> str:
    parts = [("." + p[4:]) if p.startswith("dot-") else p for p in rel[:-3].split("/")]
    return "/".join(parts)


def render_project(template: str, *, name: str, runtime: str = DEFAULT_RUNTIME, ci: str | None = None,
                   action: str | None = None) -> list[ProjectFile]:
    """The files of a new project, rendered (nothing is written)."""
    import jinja2

    if template not in TEMPLATES:
        raise UsageError(f"unknown template {template!r}", where="--template",
                         hint=f"choose one of {', '.join(TEMPLATES)} (lamctl init --list)")
    if runtime not in RUNTIMES:
        raise UsageError(f"unsupported runtime {runtime!r}", where="--runtime",
                         hint=f"choose one of {', '.join(RUNTIMES)}")
    lang = language(runtime)
    if lang not in LANGUAGES[template]:
        others = [t for t, langs in LANGUAGES.items() if lang in langs]
        raise UsageError(f"template {template} is written in Python only, and --runtime {runtime} is not a Python "
                         "runtime", where="--runtime",
                         hint=f"choose a python3.x runtime for {template}, or --template {' or '.join(others)} "
                              f"for {runtime}")
    if ci is not None and ci not in CI_SYSTEMS:
        raise UsageError(f"unknown CI system {ci!r}", where="--ci", hint=f"choose one of {', '.join(CI_SYSTEMS)}")
    if not _STACK_NAME.match(name):
        raise UsageError(f"{name!r} is not a stack name", where="DIR",
                         hint="a name starts with a letter and holds letters, digits and '-' only")
    if action is not None and not re.fullmatch(r"[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+(/[A-Za-z0-9_./-]+)?@[A-Za-z0-9_./-]+",
                                               action):
        raise UsageError(f"--action {action!r} is not an action reference", where="--action",
                         hint="give OWNER/REPO@REF, e.g. my-org/lamctl@v1")
    if action is None:
        from importlib.metadata import PackageNotFoundError, version

        try:
            action = f"{ACTION_REPOSITORY}@v{version('lamctl')}"
        except PackageNotFoundError:  # pragma: no cover - lamctl runs installed
            action = f"{ACTION_REPOSITORY}@main"
    env = jinja2.Environment(variable_start_string="[[", variable_end_string="]]", block_start_string="[%",
                             block_end_string="%]", comment_start_string="[#", comment_end_string="#]",
                             keep_trailing_newline=True, trim_blocks=True, lstrip_blocks=True,
                             undefined=jinja2.StrictUndefined, autoescape=False)
    values = {"name": name, "runtime": runtime, "template": template, "ci": ci, "action": action,
              "language": lang,
              "python_version": runtime.removeprefix("python") if lang == "python" else ACTION_PYTHON,
              "node_version": runtime.removeprefix("nodejs").removesuffix(".x") if lang == "nodejs" else "",
              "smoke_function": f"{name}-{SMOKE_FUNCTION[template]}",
              "description": DESCRIPTIONS.get((template, lang), TEMPLATES[template])}
    root = _root()
    folder = template if lang == "python" else f"{template}.{lang}"
    sources = [root / "_common", root / folder] + ([root / "_ci" / ci] if ci else [])
    files: dict[str, ProjectFile] = {}
    for folder in sources:
        for rel, entry in _walk(folder):
            out = _out_path(rel)
            text = env.from_string(entry.read_text(encoding="utf-8")).render(values)
            files[out] = ProjectFile(out, text, executable=out.endswith((".sh", "bootstrap")))
    return [files[k] for k in sorted(files)]


def write_project(directory: str, files: list[ProjectFile], force: bool = False) -> list[str]:
    """Write the files under ``directory``; refuse (exit 2, naming the file) before writing any if one exists."""
    for f in files:
        target = os.path.join(directory, f.path)
        if os.path.isdir(target):
            raise UsageError(f"{target} is a folder where lamctl init writes a file", where=target,
                             hint="move it away, or init into another folder")
        if not force and os.path.lexists(target):
            raise UsageError(f"{target} already exists; lamctl init never overwrites a file", where=target,
                             hint="init into an empty folder, or pass --force to overwrite the template's files")
    written = []
    for f in files:
        target = os.path.join(directory, f.path)
        os.makedirs(os.path.dirname(target) or ".", exist_ok=True)
        with open(target, "w", encoding="utf-8", newline="\n") as fh:
            fh.write(f.text)
        if f.executable:
            os.chmod(target, 0o755)
        written.append(target)
    return written
