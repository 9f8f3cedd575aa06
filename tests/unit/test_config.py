"""Settings (stratus.config): validation of the environment, and each template function's
settings class against the environment its template gives it."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from localcloud.stack import Stack
from stratus import config
from stratus.config import (
    EnvSettings,
    JwtSettings,
    SchedulerSettings,
    SettingsError,
    TablesSettings,
    UsersSettings,
    get_settings,
    require,
)

ROOT = Path(__file__).resolve().parents[2]

VALID = {
    "USERS_TABLE": "Users",
    "GRAPHS_TABLE": "Graphs",
    "EXECUTIONS_TABLE": "Executions",
    "STORE_TABLE": "Store",
    "VALUES_BUCKET": "values",
    "CREDENTIALS_KEY_ID": "alias/key",
    "EGRESS_ALLOW_LIST": "10.0.0.0/8,127.0.0.1:8001",
    "JWT_VERIFY_KEY_PARAM": "/stratus/jwt",
    "SIGNUP_CREDITS": "250",
}


def _error(cls: type[EnvSettings], environ: dict[str, str]) -> str:
    with pytest.raises(SettingsError) as caught:
        cls.from_env(environ)
    return str(caught.value)


def test_a_valid_environment_gives_typed_values_and_defaults():
    settings = UsersSettings.from_env(VALID)
    assert settings.users_table == "Users" and settings.store_table == "Store"
    assert settings.signup_credits == 250
    assert settings.jwt_algorithm == "HS256" and settings.jwt_audience == "authenticated"
    assert settings.jwt_verify_key is None and settings.jwt_verify_key_param == "/stratus/jwt"
    assert settings.egress_allow_list == "10.0.0.0/8,127.0.0.1:8001"


def test_a_missing_variable_is_named():
    environ = {k: v for k, v in VALID.items() if k not in ("GRAPHS_TABLE", "SIGNUP_CREDITS")}
    message = _error(UsersSettings, environ)
    assert message.startswith("UsersSettings: ")
    assert "GRAPHS_TABLE is not set" in message and "SIGNUP_CREDITS is not set" in message


@pytest.mark.parametrize("value", ["", "   "])
def test_an_empty_required_variable_fails(value):
    assert "USERS_TABLE is empty" in _error(UsersSettings, {**VALID, "USERS_TABLE": value})


@pytest.mark.parametrize("value", ["many", "1.5", "-1"])
def test_an_invalid_int_fails_without_echoing_the_value(value):
    message = _error(UsersSettings, {**VALID, "SIGNUP_CREDITS": value})
    assert "SIGNUP_CREDITS is invalid" in message and repr(value) not in message


def test_an_empty_optional_variable_takes_its_default():
    settings = UsersSettings.from_env({**VALID, "JWT_ALGORITHM": "", "EGRESS_ALLOW_LIST": ""})
    assert settings.jwt_algorithm == "HS256" and settings.egress_allow_list == ""


def test_invalid_choices_and_allow_lists_are_refused():
    assert "JWT_ALGORITHM is invalid" in _error(JwtSettings, {**VALID, "JWT_ALGORITHM": "none"})
    assert "EGRESS_ALLOW_LIST is malformed" in _error(UsersSettings, {**VALID, "EGRESS_ALLOW_LIST": "not-an-ip"})


def test_a_jwt_key_or_its_parameter_is_required():
    environ = {k: v for k, v in VALID.items() if k != "JWT_VERIFY_KEY_PARAM"}
    assert "JWT_VERIFY_KEY_PARAM (or JWT_VERIFY_KEY) is not set" in _error(JwtSettings, environ)
    assert JwtSettings.from_env({**environ, "JWT_VERIFY_KEY": "local-secret"}).jwt_verify_key == "local-secret"


def test_require_validates_at_cold_start_and_pieces_come_from_it(monkeypatch):
    for name in VALID:
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(SettingsError, match="USERS_TABLE is not set"):
        require(UsersSettings)
    for name, value in VALID.items():
        monkeypatch.setenv(name, value)
    required = require(UsersSettings)
    assert get_settings(TablesSettings) is required  # the function's one validated instance
    monkeypatch.setenv("SCHEDULE_GROUP", "g")
    monkeypatch.setenv("SCHEDULED_RUN_FUNCTION_ARN", "arn:run")
    monkeypatch.setenv("SCHEDULER_ROLE_ARN", "arn:role")
    assert get_settings(SchedulerSettings).schedule_group == "g"  # a piece outside it: read on its own


# --- the functions and their templates -----------------------------------------------------
def _required_class(app: Path) -> type[EnvSettings]:
    """The class the function's app.py passes to `require(...)` at import (exactly one call)."""
    calls = [
        node.value
        for node in ast.parse(app.read_text()).body
        if isinstance(node, ast.Expr)
        and isinstance(node.value, ast.Call)
        and isinstance(node.value.func, ast.Name)
        and node.value.func.id == "require"
    ]
    assert len(calls) == 1, f"{app.relative_to(ROOT)}: one require(<Settings>) at module level"
    (argument,) = calls[0].args
    assert isinstance(argument, ast.Name)
    cls = getattr(config, argument.id)
    assert issubclass(cls, EnvSettings)
    return cls


FUNCTIONS = Stack(ROOT / "template.yaml").functions()  # with websocket.yaml's, Globals applied


@pytest.mark.parametrize("logical_id", sorted(FUNCTIONS))
def test_each_function_gets_every_variable_its_settings_require_from_its_template(logical_id):
    spec = FUNCTIONS[logical_id]
    cls = _required_class(spec.code_dir / f"{spec.handler.split('.')[0]}.py")
    required = {name for name, is_required in cls.variables().items() if is_required}
    missing = sorted(required - set(spec.environment))
    assert not missing, f"{logical_id} ({cls.__name__}) needs {missing}, which its template does not set"
    cls.from_env(spec.environment)  # the template's values themselves validate (defaults resolved)


def test_every_function_directory_validates_its_settings():
    apps = {path for path in (ROOT / "functions").rglob("app.py")}
    assert apps == {spec.code_dir / "app.py" for spec in FUNCTIONS.values()}
    for app in apps:
        _required_class(app)


def test_every_variable_is_documented():
    documented = (ROOT / "docs" / "configuration.md").read_text()
    classes, seen = [EnvSettings], set()
    while classes:
        cls = classes.pop()
        classes.extend(cls.__subclasses__())
        seen.update(cls.variables())
    undocumented = sorted(name for name in seen if f"`{name}`" not in documented)
    assert not undocumented, f"docs/configuration.md does not list {undocumented}"
