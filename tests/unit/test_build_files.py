"""What goes into a zip: default excludes, .lamctlignore (gitignore syntax), --explain, symlinks, special files."""

from __future__ import annotations

import os
import socket
import zipfile

import pytest

from lamctl.packager import files
from lamctl.packager.build import build_template, explain_path
from lamctl.schemas.errors import UsageError
from tests.helpers import ONE_FUNCTION, load_written, write_files, zip_names


def _project(tmp_path, tree: dict[str, str], ignore: str | None = None, top_ignore: str | None = None):
    src = tmp_path / "src"
    src.mkdir(parents=True, exist_ok=True)
    write_files(src, tree)
    if ignore is not None:
        (src / ".lamctlignore").write_text(ignore)
    if top_ignore is not None:
        (tmp_path / ".lamctlignore").write_text(top_ignore)
    return load_written(tmp_path, ONE_FUNCTION)


def test_default_excludes_leave_out_caches_venvs_and_secrets(tmp_path):
    tpl = _project(tmp_path, {
        "app.py": "x", "pkg/mod.py": "x", "pkg/__pycache__/mod.cpython-312.pyc": "x", "old.pyc": "x",
        ".git/HEAD": "x", ".venv/lib/site.py": "x", "venv/bin/activate": "x", ".env": "SECRET=1",
        ".aws/credentials": "x", ".lamctl/build/x.zip": "x", ".pytest_cache/v": "x", "environment.py": "x",
    })
    art = build_template(tpl).artifact("Fn")
    assert zip_names(art.zip_path) == ["app.py", "environment.py", "pkg/mod.py"]


def test_lamctlignore_in_the_code_folder_uses_gitignore_rules(tmp_path):
    tpl = _project(tmp_path, {
        "app.py": "x", "tests/test_app.py": "x", "docs/readme.md": "x", "notes.md": "x",
        "keep/notes.md": "x", "build/out.txt": "x", "lib/build/keep.txt": "x",
        "a/b/c/deep.log": "x", "data/big.csv": "x", "data/small.csv": "x", "space .txt": "x",
    }, ignore="""\
# comments and blank lines are ignored

tests/
*.md
!keep/notes.md
/build
**/*.log
data/*.csv
!data/small.csv
space\\ .txt
""")
    art = build_template(tpl).artifact("Fn")
    assert zip_names(art.zip_path) == ["app.py", "data/small.csv", "keep/notes.md", "lib/build/keep.txt"]


def test_ignore_file_beside_the_template_applies_and_the_code_folder_one_wins(tmp_path):
    tpl = _project(tmp_path, {"app.py": "x", "fixtures/a.json": "x", "README.txt": "x"},
                   ignore="!README.txt\n", top_ignore="fixtures/\n*.txt\n")
    assert zip_names(build_template(tpl).artifact("Fn").zip_path) == ["README.txt", "app.py"]


def test_a_file_inside_an_excluded_folder_cannot_be_re_included(tmp_path):
    tpl = _project(tmp_path, {"app.py": "x", "vendor/keep.py": "x"}, ignore="vendor/\n!vendor/keep.py\n")
    assert zip_names(build_template(tpl).artifact("Fn").zip_path) == ["app.py"]
    [row] = explain_path(tpl, str(tmp_path / "src" / "vendor" / "keep.py"))
    assert not row.included
    assert "vendor/" in row.reason and "cannot be re-included" in row.reason
    assert row.rule == f"{tmp_path / 'src' / '.lamctlignore'}:1"


def test_explain_names_the_deciding_rule(tmp_path):
    tpl = _project(tmp_path, {"app.py": "x", "notes.md": "x", "keep.md": "x", "pkg/__pycache__/m.pyc": "x"},
                   ignore="*.md\n!keep.md\n")
    src = tmp_path / "src"
    ignore = src / ".lamctlignore"
    by_path = {os.path.basename(p): explain_path(tpl, str(src / p))[0]
               for p in ("app.py", "notes.md", "keep.md", "pkg/__pycache__/m.pyc")}
    assert by_path["app.py"].included and by_path["app.py"].rule is None
    assert not by_path["notes.md"].included and by_path["notes.md"].rule == f"{ignore}:1"
    assert "'*.md'" in by_path["notes.md"].reason
    assert by_path["keep.md"].included and by_path["keep.md"].rule == f"{ignore}:2"
    assert "re-included" in by_path["keep.md"].reason
    assert not by_path["m.pyc"].included and by_path["m.pyc"].rule == "default"
    (tmp_path / "elsewhere.txt").write_text("x")
    assert explain_path(tpl, str(tmp_path / "elsewhere.txt")) == []  # outside every code folder
    with pytest.raises(UsageError, match="does not exist"):
        explain_path(tpl, str(src / "nonexistent.py"))


@pytest.mark.parametrize("pattern,path,is_dir,excluded", [
    ("foo", "a/foo", False, True),
    ("foo", "a/foo", True, True),
    ("foo/", "a/foo", False, False),
    ("foo/", "a/foo", True, True),
    ("/foo", "a/foo", False, False),
    ("/foo", "foo", False, True),
    ("a/*.py", "a/x.py", False, True),
    ("a/*.py", "a/b/x.py", False, False),
    ("a/**/x.py", "a/x.py", False, True),
    ("a/**/x.py", "a/b/c/x.py", False, True),
    ("**/x", "x", False, True),
    ("**/x", "p/q/x", False, True),
    ("a/**", "a/b/c", False, True),
    ("a/**", "a", True, False),
    ("x?.txt", "x1.txt", False, True),
    ("x?.txt", "x/.txt", False, False),
    ("[abc].txt", "b.txt", False, True),
    ("[!abc].txt", "b.txt", False, False),
    ("[!abc].txt", "d.txt", False, True),
    ("\\#hash", "#hash", False, True),
    ("\\!bang", "!bang", False, True),
    ("*.txt   ", "a.txt", False, True),
])
def test_gitignore_pattern_semantics(pattern, path, is_dir, excluded):
    m = files.Matcher([files.compile_pattern(pattern, "t:1")])
    assert m.excluded(path, is_dir) is excluded


def test_malformed_ignore_file_is_exit_2_with_file_and_line(tmp_path):
    tpl = _project(tmp_path, {"app.py": "x"}, ignore="ok.txt\nbad\\\n")
    with pytest.raises(UsageError) as err:
        build_template(tpl)
    assert err.value.exit_code == 2
    assert err.value.where == f"{tmp_path / 'src' / '.lamctlignore'}:2"
    assert not (tmp_path / ".lamctl" / "build" / "Fn.zip").exists()
    (tmp_path / "src" / ".lamctlignore").write_bytes(b"ok\n\xff\xfe bad\n")
    with pytest.raises(UsageError) as err:
        build_template(tpl)
    assert err.value.where == f"{tmp_path / 'src' / '.lamctlignore'}:2" and "UTF-8" in err.value.message


def test_symlinks_inside_the_folder_are_followed(tmp_path):
    tpl = _project(tmp_path, {"app.py": "print(1)", "shared/util.py": "U = 1"})
    src = tmp_path / "src"
    os.symlink("app.py", src / "alias.py")
    os.symlink("shared", src / "linked")
    names = zip_names(build_template(tpl).artifact("Fn").zip_path)
    assert names == ["alias.py", "app.py", "linked/util.py", "shared/util.py"]
    with zipfile.ZipFile(build_template(tpl).artifact("Fn").zip_path) as zf:
        assert zf.read("alias.py") == b"print(1)"


def test_a_symlink_leading_outside_is_an_error_naming_it(tmp_path):
    tpl = _project(tmp_path, {"app.py": "x"})
    secret = tmp_path / "outside.txt"
    secret.write_text("not yours")
    os.symlink(secret, tmp_path / "src" / "escape.txt")
    with pytest.raises(UsageError) as err:
        build_template(tpl)
    assert "escape.txt" in err.value.message and "outside the code folder" in err.value.message
    assert err.value.where == "Fn" and err.value.exit_code == 2
    assert not (tmp_path / ".lamctl" / "build" / "Fn.zip").exists()
    # ignored, it is no longer a problem
    (tmp_path / "src" / ".lamctlignore").write_text("escape.txt\n")
    assert zip_names(build_template(tpl).artifact("Fn").zip_path) == ["app.py"]


def test_a_symlinked_folder_leading_outside_and_a_dangling_link_are_errors(tmp_path):
    tpl = _project(tmp_path, {"app.py": "x"})
    (tmp_path / "elsewhere").mkdir()
    os.symlink(tmp_path / "elsewhere", tmp_path / "src" / "ext")
    with pytest.raises(UsageError) as err:
        build_template(tpl)
    assert "symlink ext" in err.value.message
    os.unlink(tmp_path / "src" / "ext")
    os.symlink("missing.py", tmp_path / "src" / "gone.py")
    with pytest.raises(UsageError) as err:
        build_template(tpl)
    assert "gone.py" in err.value.message and "points to nothing" in err.value.message


def test_a_symlink_loop_is_an_error(tmp_path):
    tpl = _project(tmp_path, {"app.py": "x", "d/f.txt": "x"})
    os.symlink("..", tmp_path / "src" / "d" / "up")
    with pytest.raises(UsageError) as err:
        build_template(tpl)
    assert "loop" in err.value.message and "d/up" in err.value.message


def test_fifos_and_sockets_are_refused(tmp_path):
    tpl = _project(tmp_path, {"app.py": "x"})
    os.mkfifo(tmp_path / "src" / "pipe")
    with pytest.raises(UsageError) as err:
        build_template(tpl)
    assert "pipe" in err.value.message and "FIFO" in err.value.message
    os.unlink(tmp_path / "src" / "pipe")
    sock = socket.socket(socket.AF_UNIX)
    path = tmp_path / "src" / "s.sock"
    try:
        sock.bind(str(path))
        with pytest.raises(UsageError) as err:
            build_template(tpl)
        assert "s.sock" in err.value.message and "socket" in err.value.message
    finally:
        sock.close()


def test_the_build_dir_inside_the_code_folder_is_never_archived(tmp_path):
    tpl = _project(tmp_path, {"app.py": "x"})
    out = tmp_path / "src" / "out"
    art = build_template(tpl, str(out)).artifact("Fn")
    art = build_template(tpl, str(out)).artifact("Fn")
    assert zip_names(art.zip_path) == ["app.py"]
