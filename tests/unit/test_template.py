"""The SAM template: cfn-lint clean, and the SAM translator turns it into CloudFormation."""

from __future__ import annotations

from pathlib import Path

import pytest

from localcloud.cfn import load_template

ROOT = Path(__file__).resolve().parents[2]
TEMPLATES = sorted(p.name for p in ROOT.glob("*.yaml") if "AWSTemplateFormatVersion" in p.read_text())


@pytest.mark.parametrize("name", TEMPLATES)
def test_cfn_lint_is_clean(name):
    from cfnlint.api import lint_all

    matches = lint_all((ROOT / name).read_text())
    # Errors and warnings, as the cfn-lint CLI reports by default (informational rules excluded).
    assert [str(m) for m in matches if m.rule.id[0] in "EW"] == []


@pytest.mark.parametrize("name", TEMPLATES)
def test_sam_translator_transforms_template(name):
    from samtranslator.public.translator import ManagedPolicyLoader
    from samtranslator.translator.transform import transform

    class _NoIam:
        def load(self):
            return {}

    from cfnlint.decode import decode_str

    template, errors = decode_str((ROOT / name).read_text())
    assert not errors
    _as_packaged(template)
    parameters = {
        name: spec.get("Default", f"arn:aws:lambda:us-east-1:123456789012:layer:{name}:1")
        for name, spec in template.get("Parameters", {}).items()
    }
    output = transform(template, parameters, ManagedPolicyLoader(_NoIam()))
    kinds = {r["Type"] for r in output["Resources"].values()}
    assert "AWS::Lambda::Function" in kinds
    # Every SAM resource was expanded (nested applications become CloudFormation stacks).
    assert not [kind for kind in kinds if kind.startswith("AWS::Serverless::")]


def _as_packaged(template: dict) -> None:
    """What `sam package` does before the transform: local paths become S3 locations."""
    function_globals = template.get("Globals", {}).get("Function", {})
    if isinstance(function_globals.get("CodeUri"), str):
        function_globals["CodeUri"] = "s3://stratus-artifacts/shared-code.zip"
    for logical_id, resource in template["Resources"].items():
        props = resource.get("Properties", {})
        for field in ("CodeUri", "ContentUri"):
            if isinstance(props.get(field), str):
                props[field] = f"s3://stratus-artifacts/{logical_id}.zip"
        if resource["Type"] == "AWS::Serverless::Application" and isinstance(props.get("Location"), str):
            props["Location"] = f"https://stratus-artifacts.s3.amazonaws.com/{logical_id}.yaml"
        if isinstance(props.get("DefinitionUri"), str):
            props["DefinitionUri"] = f"s3://stratus-artifacts/{logical_id}.json"


def test_data_tables_are_retained_on_demand_with_pitr():
    template = load_template(ROOT / "template.yaml")
    tables = {k: v for k, v in template["Resources"].items() if v["Type"] == "AWS::DynamoDB::Table"}
    assert tables
    for logical_id, table in tables.items():
        props = table["Properties"]
        assert props["BillingMode"] == "PAY_PER_REQUEST", logical_id
        if table.get("DeletionPolicy") == "Retain":
            assert props["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] is True
    assert template["Resources"]["UsersTable"]["DeletionPolicy"] == "Retain"


def test_functions_run_python312_with_powertools_settings():
    template = load_template(ROOT / "template.yaml")
    assert template["Globals"]["Function"]["Runtime"] == "python3.12"
    for logical_id, resource in template["Resources"].items():
        if resource["Type"] == "AWS::Serverless::Function":
            env = resource["Properties"]["Environment"]["Variables"]
            assert "POWERTOOLS_SERVICE_NAME" in env, logical_id
