"""Importing a document of the published shape, exporting OpenAPI 3.0, and both ways round."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from openapi_spec_validator import validate as validate_openapi

from opendip.catalogue import DEFAULT_DIRECTORY, Catalogue, load_catalogue
from opendip.catalogue.tooling.diff import CatalogueDiff
from opendip.catalogue.tooling.exporter import export_openapi
from opendip.catalogue.tooling.importer import import_openapi, write_catalogue
from opendip.errors import Msg
from tests.helpers.hub import OPENDIP

FIXTURE = Path(__file__).parent.parent / "fixtures" / "mini-dip-openapi.json"


@pytest.fixture(scope="module")
def imported(tmp_path_factory: pytest.TempPathFactory) -> tuple[Catalogue, list[str]]:
    result = import_openapi(json.loads(FIXTURE.read_text()))
    out = tmp_path_factory.mktemp("imported")
    write_catalogue(result, out, DEFAULT_DIRECTORY)
    return load_catalogue(out), result.unmapped


def test_import_maps_interfaces_events_and_versions(imported: tuple[Catalogue, list[str]]) -> None:
    catalogue, _ = imported
    assert sorted(catalogue.interfaces) == ["IF-007", "IF-015", "IF-043", "REP-002"]
    assert catalogue.versions("IF-043") == ("011", "012"), "a schemaVersion enum is several versions"
    assert catalogue.event_codes("IF-007") == (
        "EnergisationStatusChange",
        "EnergisationStatusFailure",
        "EnergisationStatusRetry",
    ), "oneOf events, and an eventCode enum of two shares one definition"
    failure = catalogue.event("IF-007", "011", "EnergisationStatusRetry")
    assert failure is not None and set(failure.blocks) == {"B040", "B025List"}
    listed = failure.blocks["B025List"]
    assert (listed.block, listed.array, listed.max_items, listed.required) == ("B025", True, 4, False)
    change = catalogue.event("IF-007", "011", "EnergisationStatusChange")
    assert change is not None and change.common_blocks["R1"].block == "R0" and not change.common_blocks["R1"].required
    replay = catalogue.event("IF-015", "011", "ConsumptionReplay")
    assert replay is not None and not replay.custom_block_allowed
    assert catalogue.interfaces["IF-043"].mpan_based and not catalogue.interfaces["REP-002"].mpan_based


def test_import_maps_types_items_and_blocks(imported: tuple[Catalogue, list[str]]) -> None:
    catalogue, _ = imported
    mpan = catalogue.data_types["DT-002"].constraints
    assert mpan.pattern == "^[0-9]{13}$", "\\d is made ASCII digits"
    assert catalogue.data_items["DI-097"].constraints.enum == ("01", "02", "19")
    assert catalogue.data_items["DI-161"].constraints.json == "number"
    b040 = catalogue.blocks["B040"]
    assert b040.fields["failureReasonCode"].item == "DI-097" and b040.fields["visitDate"].type == "DT-003N"
    attempts = b040.fields["attempts"]
    assert attempts.inline is not None and attempts.inline.maximum == 9 and not attempts.required
    assert "extras" not in b040.fields
    assert catalogue.blocks["B025"].notes.startswith("The document leaves this block open")
    assert catalogue.blocks["B099"].fields["accountNumber"].type == "DT-035B"
    report = catalogue.event("REP-002", "009", "DUOSSupplierAggData")
    assert report is not None and report.report is not None
    assert report.report.block == "REP-002-CustomBlock" and report.report.carrier == ("P03", "compressedReport")
    assert {"S1", "A0", "D0", "M0", "R0", "P0"} <= set(catalogue.common.blocks)


def test_import_lists_what_it_could_not_map(imported: tuple[Catalogue, list[str]]) -> None:
    _, unmapped = imported
    text = "\n".join(unmapped)
    assert "DT-035-Bank-Account-Number: the id DT-035 is used twice; imported as DT-035B" in text
    assert "IF-007-Payload: oneOf IF-007-Missing not found" in text
    assert "B040.extras: inline untyped schema not mapped" in text
    assert "StandardResponse: not referenced by any interface payload" in text
    assert "example Broken: no array value" in text


def test_imported_catalogue_validates_messages(imported: tuple[Catalogue, list[str]]) -> None:
    catalogue, _ = imported
    document = json.loads(FIXTURE.read_text())
    good = document["components"]["examples"]["IF-043"]["value"][0]["payload"]
    bad = document["components"]["examples"]["IF-043-Wrong"]["value"][0]["payload"]
    assert catalogue.validate(good, "IF-043") == []
    assert [(i.path, i.rule, i.msg) for i in catalogue.validate(bad, "IF-043")] == [
        ("$.payload.CustomBlock.B023.connectionTypeEffectiveFromDate", "minLength", Msg.SCHEMA_FAILURE)
    ]


def test_import_command(tmp_path: Path) -> None:
    out = tmp_path / "catalogue"
    run = subprocess.run(
        [OPENDIP, "catalogue", "import", str(FIXTURE), "--out", str(out)], capture_output=True, text=True
    )
    assert run.returncode == 0, run.stderr
    assert "imported 4 interfaces" in run.stdout
    assert "not mapped: B040.extras" in run.stdout
    assert (
        "example IF-043-Wrong does not validate: $[0].payload.CustomBlock.B023.connectionTypeEffectiveFromDate"
        in run.stdout
    )
    assert "example IF-043 does not validate" not in run.stdout
    assert (out / "interfaces" / "IF-007.yaml").exists() and (out / "examples" / "IF-043.json").exists()
    assert load_catalogue(out).versions("REP-002") == ("008", "009")


@pytest.fixture(scope="module")
def exported(catalogue: Catalogue) -> dict:
    from opendip.app import create_app

    return export_openapi(catalogue, app_openapi=create_app().openapi())


def test_export_is_a_valid_openapi_30_document(exported: dict) -> None:
    assert exported["openapi"].startswith("3.0")
    validate_openapi(exported)


def test_export_has_every_channel_and_event(catalogue: Catalogue, exported: dict) -> None:
    paths = exported["paths"]
    for interface in catalogue.interfaces.values():
        assert f"/dip-channel/{interface.id}" in paths
        assert f"{interface.id}-Payload" in exported["components"]["schemas"]
        for code in interface.event_codes():
            assert f"/validate/{interface.id}/{code}" in paths, (interface.id, code)
    assert "/validate/IF-030/{eventCode}" in paths, "unpublished event codes stay a parameter"
    assert "/healthz" in paths, "the hub's other routes are carried over"
    body = paths["/validate/IF-043/ConnectionTypeChange"]["post"]["requestBody"]["content"]["application/json"]
    assert body["schema"]["items"]["properties"]["payload"] == {
        "$ref": "#/components/schemas/IF-043-ConnectionTypeChange"
    }
    s1 = exported["components"]["schemas"]["S1"]
    assert s1["properties"]["subText"] == {"$ref": "#/components/schemas/DT-020N-SubText"}
    assert exported["components"]["schemas"]["DT-020N-SubText"]["nullable"] is True


def test_export_names_the_admin_routes_bodies(exported: dict) -> None:
    """The admin API reads its typed bodies in dependencies; the document still names each one."""
    paths, schemas = exported["paths"], exported["components"]["schemas"]
    named = {
        ("/admin/participants", "post"): ("ParticipantCreate", True),
        ("/admin/participants/{dip_id}", "patch"): ("ParticipantUpdate", False),
        ("/admin/users", "post"): ("UserCreate", True),
        ("/admin/session", "post"): ("SessionBody", True),
        ("/admin/certificates/{fingerprint}/revoke", "post"): ("Revoke", False),
        ("/admin/governance/change-requests", "post"): ("RaiseRequest", True),
        ("/admin/testing/defects", "post"): ("Defect", True),
    }
    for (path, method), (model, required) in named.items():
        body = paths[path][method]["requestBody"]
        assert body["content"]["application/json"]["schema"] == {"$ref": f"#/components/schemas/{model}"}, path
        assert body["required"] is required, path
        assert schemas[model]["additionalProperties"] is False, "unknown keys are refused, as the hub does"
    create = schemas["ParticipantCreate"]
    assert {"dipId", "role", "name"} <= set(create["required"]) and "dcpFor" in create["properties"]
    assert "requestBody" not in paths["/admin/participants/{dip_id}/suspend"]["post"], "no body, none named"
    plan = paths["/admin/testing/plan"]["post"]["requestBody"]["content"]
    assert set(plan) == {"application/yaml", "text/csv"}, "a plan is text the route reads itself"
    attachment = paths["/admin/governance/change-requests/{ref}/attachments"]["post"]["requestBody"]["content"]
    assert attachment["application/octet-stream"]["schema"]["format"] == "binary"


def test_export_then_import_gives_the_same_catalogue_but_roles(
    catalogue: Catalogue, exported: dict, tmp_path: Path
) -> None:
    result = import_openapi(exported)
    write_catalogue(result, tmp_path, DEFAULT_DIRECTORY)
    again = load_catalogue(tmp_path)
    changes = CatalogueDiff(catalogue, again).changes
    assert [c.line() for c in changes if "sender roles" not in c.detail] == []
    assert len(again.interfaces) == len(catalogue.interfaces)


def test_export_command(tmp_path: Path) -> None:
    target = tmp_path / "openapi.json"
    run = subprocess.run([OPENDIP, "catalogue", "export", "--out", str(target)], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    document = json.loads(target.read_text())
    assert "/dip-channel/REP-901" in document["paths"]
    stdout = subprocess.run([OPENDIP, "catalogue", "export"], capture_output=True, text=True)
    assert stdout.returncode == 0 and json.loads(stdout.stdout)["openapi"] == document["openapi"]
