"""``lamctl completion bash|zsh|fish``: a shell completion script.

The script completes the commands, their options (and an option's choices
when it lists them, ``[a|b]``), files for the options that take a path, and
the names of the current folder's project where a command takes one: function
names (``--function``, ``invoke FUNCTION``, ``local invoke FUNCTION``) from
``template.yaml`` (logical IDs and literal or ``${AWS::StackName}``-based
``FunctionName``s) and stack names (``--stack``) from ``lamctl.toml``. Those
are read when completing, by ``lamctl completion --names function|stack``,
which prints one name a line and never fails.

Install: bash ``eval "$(lamctl completion bash)"`` in ~/.bashrc (or save it as
~/.local/share/bash-completion/completions/lamctl); zsh ``eval "$(lamctl
completion zsh)"`` in ~/.zshrc; fish ``lamctl completion fish >
~/.config/fish/completions/lamctl.fish``.
"""

from __future__ import annotations

import os
import re
import shlex
from typing import Any, Optional

import typer

from lamctl.schemas.errors import UsageError

SHELLS = ("bash", "zsh", "fish")
FUNCTION_OPTIONS = {"--function"}
STACK_OPTIONS = {"--stack"}
FILE_OPTIONS = {"--template", "-t", "--event", "-e", "--config", "--appspec", "--build-dir", "--env-vars",
                "--parameters-file"}
FUNCTION_ARGUMENT_COMMANDS = {"invoke", "local invoke"}


def completion(
    ctx: typer.Context,
    shell: Optional[str] = typer.Argument(None, metavar="[bash|zsh|fish]", help="The shell to complete for."),
    names: Optional[str] = typer.Option(None, "--names", metavar="[function|stack]", hidden=True,
                                        help="Print the current project's function or stack names (for the script)."),
) -> None:
    """Print a shell completion script (bash, zsh or fish) for commands, options and the project's names."""
    if names is not None:
        for name in project_names(names):
            typer.echo(name)
        return
    if shell not in SHELLS:
        raise UsageError(f"name a shell: {' , '.join(SHELLS)}" if shell is None else f"unknown shell {shell!r}",
                         where="SHELL", hint="lamctl completion bash (or zsh, fish)")
    spec = command_spec(ctx.find_root())
    typer.echo({"bash": bash_script, "zsh": zsh_script, "fish": fish_script}[shell](spec), nl=False)


# ---------------------------------------------------------------- the project's names


def project_names(kind: str) -> list[str]:
    """Function or stack names of the project in the current folder; empty on any trouble (completion never fails)."""
    try:
        stacks = _stacks()
        if kind == "stack":
            return stacks
        if kind == "function":
            return _functions(stacks[0] if stacks else None)
    except Exception:  # noqa: BLE001 - a broken template or config: no names, no noise while typing
        return []
    return []


def _stacks() -> list[str]:
    import tomllib

    if not os.path.isfile("lamctl.toml"):
        return []
    with open("lamctl.toml", "rb") as fh:
        data = tomllib.load(fh)
    out = []
    for section in data.values():
        stack = section.get("stack") if isinstance(section, dict) else None
        if isinstance(stack, str) and stack not in out:
            out.append(stack)
    return out


def _functions(stack: str | None) -> list[str]:
    from lamctl.schemas.template import find_template, load_template

    data = load_template(find_template(None)).data
    out: list[str] = []
    for logical_id, resource in (data.get("Resources") or {}).items():
        if not isinstance(resource, dict) or resource.get("Type") not in ("AWS::Serverless::Function",
                                                                            "AWS::Lambda::Function"):
            continue
        out.append(logical_id)
        name = (resource.get("Properties") or {}).get("FunctionName")
        if isinstance(name, dict) and isinstance(name.get("Fn::Sub"), str) and stack:
            name = name["Fn::Sub"].replace("${AWS::StackName}", stack)
        if isinstance(name, str) and "${" not in name and name not in out:
            out.append(name)
    return out


# ---------------------------------------------------------------- what the scripts complete


def _choices(param: Any) -> list[str]:
    choices = getattr(getattr(param, "type", None), "choices", None)
    if choices:
        return [str(c) for c in choices]
    metavar = getattr(param, "metavar", None) or ""
    m = re.fullmatch(r"\[([A-Za-z0-9_.-]+(?:\|[A-Za-z0-9_.-]+)*)(?:\|\.\.\.)?\]", metavar)
    if not m or ("|" not in m.group(1) and not m.group(1).islower()):  # [DIR], [URL]: a placeholder, not a choice
        return []
    return m.group(1).split("|")


def _options(command: Any) -> list[dict]:
    out = []
    for param in command.params:
        if getattr(param, "param_type_name", "") != "option" or getattr(param, "hidden", False):
            continue
        names = [n for n in [*param.opts, *param.secondary_opts]]
        kind = "flag" if (param.is_flag or param.count) else "value"
        values = "choices" if _choices(param) else "value"
        if any(n in FUNCTION_OPTIONS for n in names):
            values = "function"
        elif any(n in STACK_OPTIONS for n in names):
            values = "stack"
        elif any(n in FILE_OPTIONS for n in names):
            values = "file"
        out.append({"names": names, "takes": kind == "value", "values": values, "choices": _choices(param),
                    "help": " ".join((param.help or "").split())[:80]})
    return out


def command_spec(root: Any) -> dict:
    """{"globals": [option], "commands": {"name" or "group sub": {"options": [...], "function_arg": bool,
    "help": str}}, "groups": {group: [sub, ...]}}."""
    ctx = typer.Context(root.command if hasattr(root, "command") else root)
    group = ctx.command
    spec: dict[str, Any] = {"globals": _options(group), "commands": {}, "groups": {}}
    for name in group.list_commands(ctx):
        command = group.get_command(ctx, name)
        subs = getattr(command, "list_commands", None)
        if subs is not None:
            spec["groups"][name] = []
            for sub in command.list_commands(ctx):
                sub_command = command.get_command(ctx, sub)
                spec["groups"][name].append(sub)
                spec["commands"][f"{name} {sub}"] = {"options": _options(sub_command),
                                                     "function_arg": f"{name} {sub}" in FUNCTION_ARGUMENT_COMMANDS,
                                                     "help": _first_line(sub_command)}
            spec["commands"][name] = {"options": [], "function_arg": False, "help": _first_line(command)}
        else:
            spec["commands"][name] = {"options": _options(command), "function_arg": name in FUNCTION_ARGUMENT_COMMANDS,
                                      "help": _first_line(command)}
    return spec


def _first_line(command: Any) -> str:
    text = (getattr(command, "help", None) or "").strip().split("\n\n")[0]
    return " ".join(text.split())[:80]


# ---------------------------------------------------------------- bash (and zsh, through bashcompinit)


def _q(words) -> str:
    return shlex.quote(" ".join(words))


def bash_script(spec: dict) -> str:
    top = [n for n in spec["commands"] if " " not in n]
    lines = ["# lamctl completion for bash: eval \"$(lamctl completion bash)\" in ~/.bashrc",
             "_lamctl_names() { command lamctl completion --names \"$1\" 2>/dev/null; }",
             "_lamctl() {",
             "  local cur=\"${COMP_WORDS[COMP_CWORD]}\" prev=\"\" cmd=\"\" i w",
             "  (( COMP_CWORD > 0 )) && prev=\"${COMP_WORDS[COMP_CWORD-1]}\"",
             "  for ((i=1; i<COMP_CWORD; i++)); do",
             "    w=\"${COMP_WORDS[i]}\"",
             "    case \"$w\" in -*) continue;; esac",
             "    if [[ -z \"$cmd\" ]]; then",
             f"      case \" {' '.join(top)} \" in *\" $w \"*) cmd=\"$w\";; esac",
             "    else",
             "      case \"$cmd\" in"]
    for group, subs in spec["groups"].items():
        lines.append(f"        {group}) case \" {' '.join(subs)} \" in *\" $w \"*) cmd=\"{group} $w\";; esac;;")
    lines += ["      esac", "    fi", "  done", "  local opts values", "  case \"$cmd\" in"]
    global_opts = [n for o in spec["globals"] for n in o["names"]]
    value_cases: dict[str, str] = {}
    for name, info in spec["commands"].items():
        opts = [n for o in info["options"] for n in o["names"]] + global_opts
        lines.append(f"    {shlex.quote(name)}) opts={_q(opts)};;")
        for o in info["options"] + spec["globals"]:
            if not o["takes"]:
                continue
            for n in o["names"]:
                value_cases.setdefault(n, _bash_values(o))
    lines += [f"    *) opts={_q(global_opts)};;", "  esac", "  case \"$prev\" in"]
    for n, action in value_cases.items():
        lines.append(f"    {n}) {action} return;;")
    lines += ["  esac",
              "  if [[ \"$cur\" == -* ]]; then COMPREPLY=($(compgen -W \"$opts\" -- \"$cur\")); return; fi",
              "  case \"$cmd\" in",
              f"    \"\") COMPREPLY=($(compgen -W {_q(top)} -- \"$cur\"));;"]
    for group, subs in spec["groups"].items():
        lines.append(f"    {group}) COMPREPLY=($(compgen -W {_q(subs)} -- \"$cur\"));;")
    with_function = [n for n, info in spec["commands"].items() if info["function_arg"]]
    for name in with_function:
        lines.append(f"    {shlex.quote(name)}) COMPREPLY=($(compgen -W \"$(_lamctl_names function)\" -- \"$cur\"));;")
    lines += ["    *) COMPREPLY=($(compgen -f -- \"$cur\"));;", "  esac", "}",
              "complete -o default -F _lamctl lamctl", ""]
    return "\n".join(lines)


def _bash_values(option: dict) -> str:
    if option["values"] in ("function", "stack"):
        return f"COMPREPLY=($(compgen -W \"$(_lamctl_names {option['values']})\" -- \"$cur\"));"
    if option["values"] == "choices":
        return f"COMPREPLY=($(compgen -W {_q(option['choices'])} -- \"$cur\"));"
    if option["values"] == "file":
        return "COMPREPLY=($(compgen -f -- \"$cur\"));"
    return "COMPREPLY=();"


def zsh_script(spec: dict) -> str:
    return ("#compdef lamctl\n# lamctl completion for zsh: eval \"$(lamctl completion zsh)\" in ~/.zshrc\n"
            "autoload -U +X bashcompinit && bashcompinit\n" + bash_script(spec))


# ---------------------------------------------------------------- fish


def _fish_q(text: str) -> str:
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def fish_script(spec: dict) -> str:
    top = [n for n in spec["commands"] if " " not in n]
    lines = ["# lamctl completion for fish: lamctl completion fish > ~/.config/fish/completions/lamctl.fish",
             "complete -c lamctl -f"]
    for name in top:
        lines.append(f"complete -c lamctl -n '__fish_use_subcommand' -a {name} -d {_fish_q(spec['commands'][name]['help'])}")
    for group, subs in spec["groups"].items():
        for sub in subs:
            lines.append(f"complete -c lamctl -n '__fish_seen_subcommand_from {group}; and not __fish_seen_subcommand_from "
                         f"{' '.join(subs)}' -a {sub} -d {_fish_q(spec['commands'][f'{group} {sub}']['help'])}")
    for o in spec["globals"]:
        lines.append("complete -c lamctl " + _fish_option(o))
    for name, info in spec["commands"].items():
        words = name.split()
        cond = f"__fish_seen_subcommand_from {words[-1]}" if len(words) == 1 else (
            f"__fish_seen_subcommand_from {words[0]}; and __fish_seen_subcommand_from {words[1]}")
        for o in info["options"]:
            lines.append(f"complete -c lamctl -n {_fish_q(cond)} " + _fish_option(o))
        if info["function_arg"]:
            lines.append(f"complete -c lamctl -n {_fish_q(cond)} -a '(lamctl completion --names function 2>/dev/null)'")
    return "\n".join(lines) + "\n"


def _fish_option(o: dict) -> str:
    parts = []
    for n in o["names"]:
        parts.append(f"-l {n[2:]}" if n.startswith("--") else f"-s {n[1:]}")
    if o["takes"]:
        if o["values"] in ("function", "stack"):
            parts.append(f"-x -a '(lamctl completion --names {o['values']} 2>/dev/null)'")
        elif o["values"] == "choices":
            parts.append(f"-x -a {_fish_q(' '.join(o['choices']))}")
        elif o["values"] == "file":
            parts.append("-r -F")
        else:
            parts.append("-x")
    if o["help"]:
        parts.append(f"-d {_fish_q(o['help'])}")
    return " ".join(parts)
