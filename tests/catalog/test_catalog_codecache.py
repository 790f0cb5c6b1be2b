"""A catalog's compiled schema checks are kept per user between commands (issue 18,
item 14): the second command that loads a catalog generates no code, and a cache file
is run only if it is the user's own and closed to others, in a folder that is too."""

from __future__ import annotations

import marshal
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from support.paths import ROOT

from xtape.catalog.codecache import FORMAT, compile_cached

SCHEMA: dict[str, Any] = {"type": "object", "properties": {"n": {"type": "integer", "minimum": 1}}, "required": ["n"]}
PLANTED = "def validate(data, custom_formats={}, name_prefix=None):\n    return 'planted'\n"

#: Runs ``xtape validate`` of the seed scenario (and its catalog), then prints how many
#: times fastjsonschema generated code.
COUNTING = """\
import sys
import fastjsonschema
calls = []
real = fastjsonschema._factory
def counting(*args, **kwargs):
    calls.append(1)
    return real(*args, **kwargs)
fastjsonschema._factory = counting
sys.argv = ["xtape", "validate", sys.argv[1]]
from xtape.cli import main
try:
    main()
finally:
    print("generated", len(calls), file=sys.stderr)
"""


def _validate_generating(cache: Path, tmp_path: Path) -> int:
    env = {**os.environ, "XDG_CACHE_HOME": str(cache)}
    env.pop("XTAPE_NO_CACHE", None)
    done = subprocess.run(
        [sys.executable, "-c", COUNTING, str(ROOT / "scenarios" / "smoke-test.yaml")],
        capture_output=True, text=True, timeout=120, check=False, cwd=tmp_path, env=env,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "catalog" in done.stdout and "streams.yaml" in done.stdout
    return int(done.stderr.splitlines()[-1].split()[1])


def test_the_second_command_with_a_catalog_generates_no_code(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    assert _validate_generating(cache, tmp_path) >= 2  # the meta-schema and the streams used
    assert _validate_generating(cache, tmp_path) == 0
    folder = cache / "xtape"
    assert folder.stat().st_mode & 0o777 == 0o700
    assert {f.stat().st_mode & 0o777 for f in folder.iterdir()} == {0o600}


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.delenv("XTAPE_NO_CACHE", raising=False)
    return tmp_path / "xtape"


def _compile() -> Any:
    import copy

    return compile_cached(copy.deepcopy(SCHEMA), handlers={}, formats={})


def _plant(cache: Path) -> Path:
    """Replace the one cache file's code by a validator that accepts anything."""
    (file,) = cache.glob("*.bin")
    key = file.stem.encode("ascii")
    file.write_bytes(FORMAT + b"validate\n" + key + marshal.dumps(compile(PLANTED, "<planted>", "exec")))
    return file


def test_a_cached_check_is_the_compiled_one(cache: Path) -> None:
    import fastjsonschema

    first = _compile()
    again = _compile()  # (from the file)
    for check in (first, again):
        assert check({"n": 2}) == {"n": 2}
        with pytest.raises(fastjsonschema.JsonSchemaValueException):
            check({"n": 0})
    assert len(list(cache.glob("*.bin"))) == 1


def test_a_file_of_the_users_own_closed_to_others_is_run(cache: Path) -> None:
    _compile()
    _plant(cache)
    assert _compile()({"n": 0}) == "planted"  # (so the refusals below are refusals)


def test_a_file_open_to_others_is_not_run(cache: Path) -> None:
    _compile()
    _plant(cache).chmod(0o644)
    assert _compile()({"n": 2}) == {"n": 2}
    with pytest.raises(Exception, match="must be bigger than or equal to 1"):
        _compile()({"n": 0})


def test_a_folder_open_to_others_is_not_used(cache: Path) -> None:
    _compile()
    _plant(cache)
    cache.chmod(0o755)
    with pytest.raises(Exception, match="must be bigger than or equal to 1"):
        _compile()({"n": 0})


def test_a_symlinked_file_is_not_followed(cache: Path, tmp_path: Path) -> None:
    _compile()
    file = _plant(cache)
    elsewhere = tmp_path / "elsewhere.bin"
    file.rename(elsewhere)
    file.symlink_to(elsewhere)
    with pytest.raises(Exception, match="must be bigger than or equal to 1"):
        _compile()({"n": 0})


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0, reason="chown needs root")
def test_a_file_of_another_user_is_not_run(cache: Path) -> None:
    _compile()
    os.chown(_plant(cache), 65534, 65534)
    with pytest.raises(Exception, match="must be bigger than or equal to 1"):
        _compile()({"n": 0})


def test_a_damaged_file_is_compiled_again_and_replaced(cache: Path) -> None:
    _compile()
    (file,) = cache.glob("*.bin")
    file.write_bytes(file.read_bytes()[:200])
    with pytest.raises(Exception, match="must be bigger than or equal to 1"):
        _compile()({"n": 0})
    assert len(file.read_bytes()) > 200


def test_an_unwritable_cache_is_no_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocker))
    assert _compile()({"n": 2}) == {"n": 2}


def test_a_schema_of_other_than_plain_data_is_not_kept(cache: Path) -> None:
    schema: dict[str, Any] = {"type": "object", "properties": {"n": {"enum": [(1, 2)]}}}
    compile_cached(schema, handlers={}, formats={})
    assert not cache.exists() or not list(cache.glob("*.bin"))
