"""The README documents every key lamctl.toml takes (the config schema is the list)."""

from __future__ import annotations

import json
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_every_config_key_has_a_row_in_the_readme_table():
    schema = json.loads((ROOT / "schemas" / "lamctl-config.schema.json").read_text())
    keys = set(schema["$defs"]["section"]["properties"])
    readme = (ROOT / "README.md").read_text()
    header = "| key | type | used by | what |"
    assert header in readme, f"README.md has no settings table (a table headed {header!r})"
    table = readme.split(header, 1)[1].split("\n\n", 1)[0]  # the table: its rows up to the first blank line
    rows = set(re.findall(r"^\| `([a-z_0-9]+)` \|", table, flags=re.M))
    assert keys - rows == set(), "lamctl.toml keys missing from the README's table"
    assert rows - keys == set(), "README rows for keys lamctl.toml does not take"
