"""The incremental cache: unchanged inputs reuse the zip without reading contents; any change rebuilds."""

from __future__ import annotations

import os

import pytest

from lamctl.packager.build import build_template
from tests.helpers import ONE_FUNCTION, load_written, zip_entries

OLD = 1_600_000_000  # mtimes well in the past: not "racily clean"


def _project(tmp_path, mtime: int | None = OLD):
    src = tmp_path / "src"
    (src / "pkg").mkdir(parents=True)
    for name, text in {"app.py": "A = 1\n", "pkg/mod.py": "B = 2\n"}.items():
        (src / name).write_text(text)
        if mtime is not None:
            os.utime(src / name, (mtime, mtime))
    return load_written(tmp_path, ONE_FUNCTION)


def test_unchanged_inputs_are_reused_and_the_cache_lives_under_xdg_cache_home(tmp_path):
    tpl = _project(tmp_path)
    first = build_template(tpl).artifact("Fn")
    second = build_template(tpl).artifact("Fn")
    assert not first.reused and second.reused
    assert second.sha256 == first.sha256 and second.files == 2 and second.zipped_bytes == first.zipped_bytes
    records = os.listdir(os.path.join(os.environ["XDG_CACHE_HOME"], "lamctl", "build"))
    assert any(r.endswith(".json") for r in records)


def test_reuse_does_not_read_file_contents(tmp_path):
    """Same size, same mtime, same inode, different bytes: only a content read could notice,
    and for a file that is not racily clean the cache must not read it."""
    tpl = _project(tmp_path)
    first = build_template(tpl).artifact("Fn")
    path = tmp_path / "src" / "app.py"
    ino = path.stat().st_ino
    with open(path, "r+b") as fh:  # overwrite in place: same inode
        fh.write(b"A = 9\n")
    os.utime(path, (OLD, OLD))
    assert path.stat().st_ino == ino
    again = build_template(tpl).artifact("Fn")
    assert again.reused and again.sha256 == first.sha256


def test_a_racily_clean_file_is_checked_by_content(tmp_path):
    """A file written just before the build may change again within the same timestamp tick:
    its content hash decides."""
    tpl = _project(tmp_path, mtime=None)  # fresh mtimes: within the racy window
    first = build_template(tpl).artifact("Fn")
    assert build_template(tpl).artifact("Fn").reused  # same content: still reused
    path = tmp_path / "src" / "app.py"
    st = path.stat()
    with open(path, "r+b") as fh:
        fh.write(b"A = 9\n")
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))  # the stat looks untouched
    again = build_template(tpl).artifact("Fn")
    assert not again.reused and again.sha256 != first.sha256
    assert zip_entries(again.zip_path)["app.py"] == b"A = 9\n"


def test_a_changed_file_rebuilds(tmp_path):
    tpl = _project(tmp_path)
    first = build_template(tpl).artifact("Fn")
    (tmp_path / "src" / "pkg" / "mod.py").write_text("B = 3\n")
    again = build_template(tpl).artifact("Fn")
    assert not again.reused and again.sha256 != first.sha256
    assert zip_entries(again.zip_path)["pkg/mod.py"] == b"B = 3\n"


def test_added_removed_and_chmodded_files_rebuild(tmp_path):
    tpl = _project(tmp_path)
    base = build_template(tpl).artifact("Fn")
    (tmp_path / "src" / "new.py").write_text("")
    added = build_template(tpl).artifact("Fn")
    assert not added.reused and added.files == 3
    os.unlink(tmp_path / "src" / "new.py")
    removed = build_template(tpl).artifact("Fn")
    assert not removed.reused and removed.sha256 == base.sha256
    os.chmod(tmp_path / "src" / "app.py", 0o755)
    chmodded = build_template(tpl).artifact("Fn")
    assert not chmodded.reused and chmodded.sha256 != base.sha256


def test_touched_or_recreated_files_with_the_same_bytes_are_verified_by_content_not_rezipped(tmp_path):
    tpl = _project(tmp_path)
    first = build_template(tpl).artifact("Fn")
    zip_stat = os.stat(first.zip_path)
    app = tmp_path / "src" / "app.py"
    os.utime(app, (OLD + 60, OLD + 60))  # touched
    mod = tmp_path / "src" / "pkg" / "mod.py"
    data = mod.read_bytes()
    os.unlink(mod)  # recreated, as a checkout does: new inode, new mtime
    mod.write_bytes(data)
    os.utime(mod, (OLD + 90, OLD + 90))
    again = build_template(tpl).artifact("Fn")
    assert again.reused and again.sha256 == first.sha256
    assert os.stat(again.zip_path).st_mtime_ns == zip_stat.st_mtime_ns, "the zip was not written again"
    # the new stat data is recorded: the next build is stat-only again (it does not read app.py)
    with open(app, "r+b") as fh:
        fh.write(b"A = 7\n")
    os.utime(app, (OLD + 60, OLD + 60))
    assert build_template(tpl).artifact("Fn").reused


def test_a_touched_file_with_new_bytes_of_the_same_size_rebuilds(tmp_path):
    tpl = _project(tmp_path)
    first = build_template(tpl).artifact("Fn")
    app = tmp_path / "src" / "app.py"
    app.write_text("A = 8\n")  # same size, new bytes
    os.utime(app, (OLD + 60, OLD + 60))
    again = build_template(tpl).artifact("Fn")
    assert not again.reused and again.sha256 != first.sha256 and zip_entries(again.zip_path)["app.py"] == b"A = 8\n"


def test_a_missing_or_altered_zip_is_rebuilt(tmp_path):
    tpl = _project(tmp_path)
    first = build_template(tpl).artifact("Fn")
    os.unlink(first.zip_path)
    again = build_template(tpl).artifact("Fn")
    assert not again.reused and os.path.exists(again.zip_path) and again.sha256 == first.sha256
    with open(again.zip_path, "ab") as fh:
        fh.write(b"tampered")
    third = build_template(tpl).artifact("Fn")
    assert not third.reused and third.sha256 == first.sha256


def test_a_new_ignore_rule_rebuilds_without_the_file(tmp_path):
    tpl = _project(tmp_path)
    build_template(tpl)
    (tmp_path / "src" / ".lamctlignore").write_text("pkg/\n")
    again = build_template(tpl).artifact("Fn")
    assert not again.reused and again.files == 1



def test_an_unwritable_cache_still_builds_with_a_warning(tmp_path, monkeypatch):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocker / "cache"))
    tpl = _project(tmp_path)
    result = build_template(tpl)
    assert os.path.isfile(result.artifact("Fn").zip_path)
    assert any("cannot write the build cache" in w for w in result.warnings)
    assert not build_template(tpl).artifact("Fn").reused


def test_an_unwritable_build_folder_is_a_build_error_naming_it(tmp_path):
    from lamctl.schemas.errors import BuildError

    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    tpl = _project(tmp_path)
    with pytest.raises(BuildError) as err:
        build_template(tpl, str(blocker / "build"))
    assert err.value.exit_code == 1 and "cannot create the build folder" in err.value.message
    assert err.value.where == str(blocker / "build")


def test_content_verification_of_a_large_file_catches_a_change_in_its_last_byte(tmp_path):
    tpl = _project(tmp_path)
    big = tmp_path / "src" / "model.bin"
    data = bytes(range(256)) * (3 * 4096 + 7)  # ~3 MB: compared in several inflated chunks
    big.write_bytes(data)
    os.utime(big, (OLD, OLD))
    first = build_template(tpl).artifact("Fn")
    os.utime(big, (OLD + 5, OLD + 5))
    assert build_template(tpl).artifact("Fn").reused
    big.write_bytes(data[:-1] + b"\x00")
    os.utime(big, (OLD + 9, OLD + 9))
    again = build_template(tpl).artifact("Fn")
    assert not again.reused and again.sha256 != first.sha256
