from __future__ import annotations

from pathlib import Path

import pytest

from connectors.schema import SOURCES
from policies.rules_files import RulesError
from policies.rules_model import load_dataset_rules
from policies.service import organization_rules

SHIPPED = Path(__file__).resolve().parents[2] / "policies" / "rules" / "datasets"


def test_shipped_rules_cover_every_contract_column_and_known_owners() -> None:
    rules = load_dataset_rules(SHIPPED)
    assert set(rules) == {
        "population-citizen",
        "insurance-insured-person",
        "insurance-contribution",
        "land-parcel",
        "land-land-right",
        "enterprise-enterprise",
    }
    owners = {o.code for o in organization_rules()}
    for rule in rules.values():
        columns = [c.name for c in SOURCES[rule.source].tables[rule.table].c]
        assert list(rule.fields) == columns, rule.name
        assert rule.owner in owners
        assert rule.primary_key in rule.filter_columns


def test_masking_keeps_the_ends() -> None:
    citizen = load_dataset_rules(SHIPPED)["population-citizen"].fields["citizen_id"]
    assert citizen.mask is not None
    assert citizen.mask.apply("079095012345") == "0790*****345"
    assert citizen.mask.apply("123") == "***"


def write(folder: Path, text: str) -> Path:
    folder.mkdir(exist_ok=True)
    path = folder / "bad.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_bad_yaml_names_file_and_line(tmp_path: Path) -> None:
    good = (SHIPPED / "land-parcel.yaml").read_text(encoding="utf-8")
    write(tmp_path, good.replace("classification: internal", "classification: secret"))
    with pytest.raises(RulesError) as info:
        load_dataset_rules(tmp_path)
    line = next(i for i, t in enumerate(good.splitlines(), 1) if t.startswith("classification:"))
    assert str(info.value).startswith(f"{tmp_path / 'bad.yaml'}:{line}: classification:")

    write(tmp_path, good.replace("filter_columns: [parcel_id,", "filter_columns: [parcel_owner,"))
    with pytest.raises(RulesError, match="parcel_owner"):
        load_dataset_rules(tmp_path)

    write(tmp_path, "name: [unclosed\n")
    with pytest.raises(RulesError, match=r"bad.yaml:\d+: not valid YAML"):
        load_dataset_rules(tmp_path)
