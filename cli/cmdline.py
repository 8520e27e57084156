"""The command line's front door: global options anywhere, lamctl's own help, one error style.

* **Global options anywhere.** ``lamctl outputs --output json`` means exactly
  ``lamctl --output json outputs``: before click parses the command line, the
  root group moves every global option found after the command (or between a
  group and its subcommand) to just before the command. Options are read with
  the command's own option table, so the value of a command's option is never
  taken for a global option. A command's own option of the same name as a global
  (``shift --config``, ``alias --version``, ``transform --region``) keeps its
  command meaning after the command; the global one goes before it. A global
  option given more than once with different values is a usage error, wherever
  it is given: ``lamctl --region a deploy --region b`` is refused, never guessed.
* **Help** is plain text written here (no rich, no Markdown): flags show no
  metavar, choices show ``[text|json]``, values their kind (``TEXT``,
  ``INTEGER``); each command's help names the global options it accepts.
* **One error style.** Every usage error of the command line itself (unknown
  command or option, missing argument, bad value) becomes a
  :class:`lamctl.schemas.errors.UsageError`, printed by ``lamctl.cli.app.main``
  like every other lamctl error (``error:``/``hint:`` lines, or NDJSON), exit 2,
  with a did-you-mean where one is close.
"""

from __future__ import annotations

import difflib
import inspect
from typing import Any

import typer
from typer.core import TyperCommand, TyperGroup

from lamctl.cli.typer_compat import skip_pydantic, value_annotation
from lamctl.schemas.errors import EXIT_USAGE, LamctlError, UsageError

# -- global options anywhere


def _is_option(token: str) -> bool:
    return token.startswith("-") and token != "-"


def _option_table(command: Any, ctx: Any) -> dict[str, Any]:
    """Every name of every option of ``command`` (its help option included) -> the option."""
    table: dict[str, Any] = {}
    for param in command.get_params(ctx):
        if getattr(param, "param_type_name", None) == "option":
            for name in (*param.opts, *param.secondary_opts):
                table[name] = param
    return table


def _takes(option: Any) -> int:
    """How many values follow the option on the command line."""
    return 0 if (option.is_flag or option.count) else max(int(option.nargs), 1)


def _read_option(table: dict[str, Any], args: list[str], i: int) -> tuple[Any, int, Any] | None:
    """The option at ``args[i]``: ``(option, index after it and its values, value)``; None if unknown.

    ``--name=value``, ``--name value``, ``-x value``, ``-xvalue`` and clusters of short flags, as click reads them."""
    token = args[i]
    if token.startswith("--"):
        name, eq, inline = token.partition("=")
        option = table.get(name)
        if option is None:
            return None
        if eq or not _takes(option):
            return option, i + 1, inline if eq else True
        end = min(i + 1 + _takes(option), len(args))
        values = args[i + 1:end]
        return option, end, values[0] if len(values) == 1 else tuple(values)
    for k, char in enumerate(token[1:], start=1):
        option = table.get("-" + char)
        if option is None:
            return None
        if _takes(option):
            if k + 1 < len(token):
                return option, i + 1, token[k + 1:]
            end = min(i + 1 + _takes(option), len(args))
            return option, end, args[i + 1] if end > i + 1 else None
    return option, i + 1, True


def hoist_global_options(root: Any, ctx: Any, args: list[str]) -> list[str]:
    """``args`` with every global option after the command moved to just before the command.

    Raises UsageError when a global option is given more than once with different values. Anything
    it does not understand (an unknown option or command) is left where it is, for click to report."""
    root_options = _option_table(root, ctx)
    globals_ = {name: opt for name, opt in root_options.items() if name not in ctx.help_option_names}
    given: dict[str, list[Any]] = {}

    def note(option: Any, value: Any) -> None:
        if _takes(option) and not getattr(option, "multiple", False):
            given.setdefault(max(option.opts, key=len), []).append(value)

    i = 0
    while i < len(args) and args[i] != "--" and _is_option(args[i]):  # the global options before the command
        found = _read_option(root_options, args, i)
        if found is None:
            return args
        note(found[0], found[2])
        i = found[1]
    head, hoisted, rest = args[:i], [], []
    command, path = root, [ctx.command_path]
    while i < len(args):
        token = args[i]
        if token == "--":
            rest += args[i:]
            break
        if _is_option(token):
            own = _read_option(_option_table(command, ctx), args, i)
            if own is not None:
                rest += args[i:own[1]]
                i = own[1]
                continue
            found = _read_option(globals_, args, i)
            if found is not None and command is not root:
                if found[1] - i - 1 < _takes(found[0]) and "=" not in token:
                    raise UsageError(f"option {token} needs a value", where=" ".join(path),
                                     hint=f"see '{' '.join(path)} --help'")
                note(found[0], found[2])
                hoisted += args[i:found[1]]
                i = found[1]
                continue
            rest.append(token)  # unknown: the command's parser says so
            i += 1
            continue
        rest.append(token)
        i += 1
        if isinstance(command, TyperGroup):
            sub = command.get_command(ctx, token)
            if sub is None:
                rest += args[i:]
                break
            command = sub
            path.append(token)
    for name, values in given.items():
        distinct = list(dict.fromkeys(str(v) for v in values))
        if len(distinct) > 1:
            raise UsageError("given more than once, with different values: " + ", ".join(repr(v) for v in distinct),
                             where=name,
                             hint=f"give {name} once; before or after the command, it means the same")
    return head + hoisted + rest


# -- usage errors in lamctl's style


def _long_name(param: Any) -> str:
    names = [*getattr(param, "opts", ())]
    longs = [n for n in names if n.startswith("--")]
    if longs:
        return longs[0]
    if names and getattr(param, "param_type_name", None) == "option":
        return names[0]
    return _argument_name(param)


def _argument_name(param: Any) -> str:
    return param.metavar or (param.name or "value").upper()


def _lower_first(text: str) -> str:
    text = text.strip().rstrip(".")
    return text[:1].lower() + text[1:] if text[:1].isupper() and not text[1:2].isupper() else text


def usage_error(exc: Any, ctx: Any = None) -> LamctlError:
    """A click/typer usage error (or other click exception) as a lamctl error, where it was and what to do.

    ``ctx`` is the context being parsed, for the errors click raises without one."""
    ctx = getattr(exc, "ctx", None) or ctx
    path = ctx.command_path if ctx is not None else "lamctl"
    see = f"see '{path} --help'"
    code = getattr(exc, "exit_code", EXIT_USAGE)
    if code != EXIT_USAGE:
        err = LamctlError(_lower_first(exc.format_message()), where=path if ctx is not None else None)
        err.exit_code = code
        return err
    param = getattr(exc, "param", None)
    option_name = getattr(exc, "option_name", None)
    if option_name is not None and hasattr(exc, "possibilities"):  # an unknown option
        known = list(_option_table(ctx.command, ctx)) if ctx is not None else []
        if ctx is not None and ctx.parent is not None:
            root = ctx.find_root()
            known += [n for n in _option_table(root.command, root) if n not in known]
        close = difflib.get_close_matches(option_name, known, n=3, cutoff=0.7) or list(exc.possibilities or ())
        hint = f"did you mean {' or '.join(close)}? ({see})" if close else see
        return UsageError(f"no such option {option_name}", where=path, hint=hint)
    if hasattr(exc, "param_type") and param is not None:  # a missing argument or option
        kind = getattr(param, "param_type_name", "parameter")
        return UsageError(f"missing {kind} {_long_name(param)}", where=path, hint=see)
    if param is not None:  # a bad value
        return UsageError(f"invalid value: {_lower_first(exc.message)}", where=f"{path} {_long_name(param)}",
                          hint=see)
    return UsageError(_lower_first(exc.format_message()), where=path, hint=see)


# -- help: plain text, no rich

_KIND = {str: "TEXT", int: "INTEGER", float: "FLOAT", bool: "BOOLEAN"}


def option_metavar(param: Any) -> str:
    """What follows an option in help: nothing for a flag, ``[a|b]`` for choices, else the value's kind."""
    if param.is_flag or param.count:
        return ""
    if param.metavar:
        return param.metavar
    annotation, choices = value_annotation(param)
    if choices:
        return "[" + "|".join(str(getattr(c, "value", c)) for c in choices) + "]"
    inner = getattr(annotation, "__args__", None)
    if getattr(annotation, "__origin__", None) in (list, tuple) and inner:
        annotation = inner[0]
    return _KIND.get(annotation, "VALUE")


def _option_row(param: Any) -> tuple[str, str]:
    names = ", ".join(sorted(param.opts, key=len))
    if param.secondary_opts:
        names += " / " + ", ".join(param.secondary_opts)
    metavar = option_metavar(param)
    text = " ".join((param.help or "").split())
    extra = []
    default = param.default
    if (metavar and param.show_default is not False and default not in (None, "", (), [])
            and not callable(default)):
        shown = ", ".join(map(str, default)) if isinstance(default, (list, tuple)) else str(default)
        extra.append(f"default: {shown}")
    if param.required:
        extra.append("required")
    if extra:
        text = f"{text}  [{'; '.join(extra)}]" if text else f"[{'; '.join(extra)}]"
    return (f"{names} {metavar}" if metavar else names), text


def _usage_pieces(command: Any, ctx: Any) -> str:
    pieces = ["[OPTIONS]"]
    for param in command.params:
        if getattr(param, "param_type_name", None) == "argument":
            name = _argument_name(param) + ("..." if param.nargs != 1 else "")
            pieces.append(name if param.required else f"[{name}]")
    if isinstance(command, TyperGroup):
        pieces.append("COMMAND [ARGS]...")
    return " ".join(pieces)


def _description(command: Any) -> str:
    return inspect.cleandoc(command.help or "").replace("\b\n", "")


def _short_help(command: Any) -> str:
    text = _description(command).split("\n\n")[0]
    return " ".join(text.split())


def _globals_owned_by(command: Any, ctx: Any) -> list[str]:
    root = ctx.find_root()
    names = [n for n in _option_table(root.command, root) if n not in ctx.help_option_names]
    own = _option_table(command, ctx)
    return [n for n in names if n in own]


def format_help(command: Any, ctx: Any, formatter: Any) -> None:
    """The help of ``command``: usage, description, arguments, options, global options, subcommands."""
    is_root = ctx.parent is None
    formatter.write_usage(ctx.command_path, _usage_pieces(command, ctx))
    text = _description(command)
    if text:
        formatter.write_paragraph()
        formatter.indent()
        formatter.write_text(text)
        formatter.dedent()
    params = command.get_params(ctx)
    arguments = [(_argument_name(p), " ".join((getattr(p, "help", None) or "").split()))
                 for p in params if p.param_type_name == "argument" and not getattr(p, "hidden", False)]
    options = [_option_row(p) for p in params if p.param_type_name == "option" and not p.hidden]
    if arguments:
        with formatter.section("Arguments"):
            formatter.write_dl(arguments)
    if options:
        with formatter.section("Global options (before or after the command)" if is_root else "Options"):
            formatter.write_dl(options)
    if is_root:
        formatter.write_paragraph()
        formatter.indent()
        formatter.write_text("A global option means the same before or after the command; given twice, it must have "
                             "the same value. After the command, an option of the command's own with the same name "
                             "is the command's (its --help says so, e.g. shift --config): give the global one before "
                             "the command.")
        formatter.dedent()
    else:
        root = ctx.find_root()
        names = [n for n, p in _option_table(root.command, root).items()
                 if n not in ctx.help_option_names and n.startswith("--") and not p.hidden]
        owned = _globals_owned_by(command, ctx)
        accepted = [n for n in names if n not in owned]
        with formatter.section("Global options (before or after the command; see 'lamctl --help')"):
            formatter.write_text(" ".join(accepted))
            if owned:
                formatter.write_text(f"{', '.join(owned)}: after the command, this command's own option (above); "
                                     f"give the global one before the command.")
    if isinstance(command, TyperGroup):
        rows = [(name, command.short_help_of(ctx, name)) for name in command.list_commands(ctx)]
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)


# -- the click classes lamctl's commands and groups are made of


def build_command(name: str, function: Any) -> Any:
    """The click command typer makes of ``function``, lamctl's class, with the start-up fast path."""
    single = typer.Typer(add_completion=False, rich_markup_mode=None, pretty_exceptions_enable=False)
    single.command(name, cls=LamctlCommand)(function)
    return skip_pydantic(typer.main.get_command(single))


def _converted(exc: Exception, ctx: Any) -> Exception:
    if isinstance(exc, typer.TyperException) and hasattr(exc, "format_message"):
        return usage_error(exc, ctx)
    return exc


class LamctlCommand(TyperCommand):
    """A lamctl command: lamctl's help, usage errors as lamctl errors."""

    def format_help(self, ctx: Any, formatter: Any) -> None:
        format_help(self, ctx, formatter)

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        try:
            return super().parse_args(ctx, args)
        except typer.TyperException as exc:
            raise _converted(exc, ctx) from None


class LamctlGroup(TyperGroup):
    """lamctl's root and its groups: commands built on first use, global options anywhere, lamctl's help,
    usage errors as lamctl errors.

    ``add_lazy(name, load)`` adds a command whose function ``load()`` imports; it is made into a click
    command only when the command line names it (or a help lists it), so that starting one command
    neither imports nor builds the others."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.lazy: dict[str, Any] = {}

    def add_lazy(self, name: str, load: Any) -> None:
        """``load``: a function returning the command's function, or a group (a LamctlGroup)."""
        self.lazy[name] = load

    def list_commands(self, ctx: Any) -> list[str]:
        return [*self.lazy, *(name for name in self.commands if name not in self.lazy)]

    def short_help_of(self, ctx: Any, name: str) -> str:
        """The first paragraph of a command's help, without building the command (typer's help is the
        function's docstring)."""
        entry = self.lazy.get(name)
        if name in self.commands or entry is None or isinstance(entry, TyperGroup):
            command = self.get_command(ctx, name)
            return _short_help(command) if command is not None else ""
        return " ".join(inspect.cleandoc(inspect.getdoc(entry()) or "").split("\n\n")[0].split())

    def get_command(self, ctx: Any, name: str) -> Any:
        command = self.commands.get(name)
        if command is None and name in self.lazy:
            entry = self.lazy[name]
            command = entry if isinstance(entry, TyperGroup) else build_command(name, entry())
            self.commands[name] = command
        return command

    def format_help(self, ctx: Any, formatter: Any) -> None:
        format_help(self, ctx, formatter)

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        if not args and self.no_args_is_help and not ctx.resilient_parsing:
            typer.echo(ctx.get_help(), err=True)
            raise UsageError("missing command", where=ctx.command_path, hint="choose one of the commands above")
        if ctx.parent is None and not ctx.resilient_parsing:
            args = hoist_global_options(self, ctx, list(args))
        try:
            return super().parse_args(ctx, args)
        except typer.TyperException as exc:
            raise _converted(exc, ctx) from None

    def resolve_command(self, ctx: Any, args: list[str]) -> Any:
        name = args[0]
        command = self.get_command(ctx, name)
        if command is None and not _is_option(name) and not ctx.resilient_parsing:
            names = [n for n in self.list_commands(ctx)]
            close = difflib.get_close_matches(name, names, n=3, cutoff=0.6)
            see = f"see '{ctx.command_path} --help'"
            raise UsageError(f"no such command {name!r}", where=ctx.command_path,
                             hint=f"did you mean {' or '.join(close)}? ({see})" if close else see)
        return super().resolve_command(ctx, args)

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except typer.TyperException as exc:
            raise _converted(exc, ctx) from None
