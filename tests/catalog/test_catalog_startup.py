"""A catalog's schemas are checked without importing jsonschema or pydantic when they
are fine (issue 18, item 14): the meta-schema is read from the file jsonschema's own
comes from, and jsonschema is asked only about a schema that is refused or of another
draft, so it still says where a schema is wrong."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from support.paths import ROOT


@pytest.mark.parametrize(("draft", "validator"), [("draft4", "Draft4Validator"), ("draft6", "Draft6Validator"), ("draft7", "Draft7Validator")])
def test_the_meta_schema_read_is_jsonschemas_own(draft: str, validator: str) -> None:
    import jsonschema

    from xtape.catalog import safe

    assert safe._light_meta_check(draft) is not None
    folder = Path(jsonschema.__file__).parent.parent / "jsonschema_specifications" / "schemas" / draft
    assert json.loads((folder / "metaschema.json").read_text()) == getattr(jsonschema, validator).META_SCHEMA


@pytest.mark.parametrize(
    ("schema", "draft"),
    [({}, "draft7"), ({"$schema": "http://json-schema.org/draft-07/schema#"}, "draft7"),
     ({"$schema": "http://json-schema.org/draft-04/schema"}, "draft4"),
     ({"$schema": "https://json-schema.org/draft/2020-12/schema"}, None), ({"$schema": 7}, None),
     ({"$schema": "http://[bad"}, None)],
)  # fmt: skip
def test_the_draft_of_a_schema_is_the_one_jsonschema_picks(schema: dict[str, object], draft: str | None) -> None:
    import jsonschema

    from xtape.catalog import safe

    assert safe._draft_of(schema) == draft
    if draft is not None:
        picked = jsonschema.validators.validator_for(schema, default=jsonschema.Draft7Validator)
        assert picked.__name__ == f"Draft{draft.removeprefix('draft')}Validator"


def test_validating_a_scenario_against_a_catalog_imports_no_jsonschema_nor_pydantic(tmp_path: Path) -> None:
    script = (
        "import sys\nsys.argv = ['xtape', 'validate', sys.argv[1]]\nfrom xtape.cli import main\n"
        "try:\n    main()\nfinally:\n    print(sorted({m.split('.')[0] for m in sys.modules} & {'jsonschema', 'pydantic', 'redis'}), file=sys.stderr)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, str(ROOT / "scenarios" / "smoke-test.yaml")],
        capture_output=True, text=True, timeout=120, check=False, cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    assert "streams.yaml" in done.stdout  # (checked against the catalog beside it)
    assert done.stderr.splitlines()[-1] == "[]"


def test_a_wrong_schema_is_still_said_where_it_is_wrong_by_jsonschema() -> None:
    from xtape.catalog import load_catalog_text
    from xtape.errors import CatalogError

    with pytest.raises(CatalogError, match=r"^c\.yaml:4: streams\.s\.schema\.properties\.a\.type: invalid JSON Schema: "):
        load_catalog_text("streams:\n  s:\n    schema:\n      properties: {a: {type: strin}}\n", "c.yaml")
