"""Schedules through LibraryFunction and ScheduledRunFunction on moto: routes, validation,
ownership, the StoreTable item and the EventBridge Scheduler schedule, scheduled runs
(idempotent per scheduled time), the cron calculator, and the local cloud's scheduler."""

from __future__ import annotations

import json
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from localcloud.provision import create_schedule_groups
from localcloud.scheduler import LocalScheduler
from stratus.aws import client
from stratus.db.agents_table.approvals import approval_key
from stratus.db.agents_table.schedules import schedule_key
from stratus.db.agents_table.table import agents_table
from stratus.db.executions_table import executions_table, meta_key
from stratus.executions import launcher
from stratus.library import cron

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
GROUP = "ScheduleGroup"
RUN_FUNCTION_ARN = "arn:aws:lambda:us-east-1:123456789012:function:ScheduledRunFunction"
ROLE_ARN = "arn:aws:iam::123456789012:role/SchedulerRole"


@pytest.fixture()
def started(api, stack, monkeypatch) -> list[str]:
    """The template's schedule group in moto, the scheduler settings, two users (alice in
    Tokyo, bob with no time zone), and state machine starts recorded instead of run."""
    monkeypatch.setenv("SCHEDULE_GROUP", GROUP)
    monkeypatch.setenv("SCHEDULED_RUN_FUNCTION_ARN", RUN_FUNCTION_ARN)
    monkeypatch.setenv("SCHEDULER_ROLE_ARN", ROLE_ARN)
    create_schedule_groups(stack, client("scheduler"))
    calls: list[str] = []
    monkeypatch.setattr(launcher, "_start_state_machine", calls.append)
    for user in ("alice", "bob"):
        assert api.request("POST", "/api/auth/user", user=user)[0] == 200
    assert api.request("POST", "/api/auth/user/timezone", user="alice", json_body={"timezone": "Asia/Tokyo"})[0] == 200
    return calls


def upload(api, user: str = "alice", name: str = "calculator.json") -> str:
    status, graph = api.request(
        "POST", "/api/graphs", user=user, json_body={"graph": json.loads((EXAMPLES / name).read_text())}
    )
    assert status == 200, graph
    return graph["id"]


def schedule(api, graph_id: str, user: str = "alice", **fields) -> tuple[int, dict]:
    body = {"name": "Nightly sum", "cron": "30 8 * * *", "inputs": {"a": 2, "b": 3}, **fields}
    return api.request("POST", f"/api/graphs/{graph_id}/schedules", user=user, json_body=body)


def aws_schedule(schedule_id: str) -> dict | None:
    scheduler = client("scheduler")
    try:
        return scheduler.get_schedule(Name=schedule_id, GroupName=GROUP)
    except scheduler.exceptions.ResourceNotFoundException:
        return None


def run_event(created: dict, scheduled_time: str = "2026-05-01T23:30:00Z") -> dict:
    payload = json.loads(aws_schedule(created["id"])["Target"]["Input"])
    return json.loads(json.dumps(payload).replace("<aws.scheduler.scheduled-time>", scheduled_time))


# --- routes ------------------------------------------------------------------------------
def test_create_returns_autogpt_shape_and_makes_item_and_scheduler_schedule(api, started):
    graph_id = upload(api)
    credentials = {"openai_credentials": {"id": "cred-1", "provider": "openai", "type": "api_key", "title": "Mine"}}
    status, created = schedule(api, graph_id, credentials=credentials)
    assert status == 200, created
    assert set(created) == {
        "id",
        "name",
        "cron",
        "timezone",
        "user_id",
        "graph_id",
        "graph_version",
        "input_data",
        "input_credentials",
        "next_run_time",
    }
    assert (created["name"], created["cron"], created["user_id"], created["graph_id"], created["graph_version"]) == (
        "Nightly sum",
        "30 8 * * *",
        "alice",
        graph_id,
        1,
    )
    assert created["input_data"] == {"a": 2, "b": 3} and created["input_credentials"] == credentials
    # The user's time zone by default; next run at 08:30 Tokyo time, with Tokyo's offset.
    assert created["timezone"] == "Asia/Tokyo"
    next_run = datetime.fromisoformat(created["next_run_time"])
    assert next_run.utcoffset() == timedelta(hours=9) and (next_run.hour, next_run.minute) == (8, 30)
    assert timedelta(0) < next_run - datetime.now(UTC) <= timedelta(days=1)

    item = agents_table().get(schedule_key("alice", created["id"]), consistent=True)
    assert item["graph_id"] == graph_id and item["schedule_expression"] == "cron(30 8 * * ? *)"
    aws = aws_schedule(created["id"])
    assert aws["ScheduleExpression"] == "cron(30 8 * * ? *)" and aws["ScheduleExpressionTimezone"] == "Asia/Tokyo"
    assert aws["FlexibleTimeWindow"] == {"Mode": "OFF"} and aws["State"] == "ENABLED"
    assert aws["Target"]["Arn"] == RUN_FUNCTION_ARN and aws["Target"]["RoleArn"] == ROLE_ARN
    # ids only (plus the scheduled time EventBridge fills in): no inputs travel with the event
    assert json.loads(aws["Target"]["Input"]) == {
        "schedule_id": created["id"],
        "user_id": "alice",
        "scheduled_time": "<aws.scheduler.scheduled-time>",
    }


def test_timezone_default_utc_explicit_and_invalid(api, started):
    graph_id = upload(api, "bob")
    status, created = schedule(api, graph_id, user="bob", cron="0 */6 * * *")
    assert status == 200 and created["timezone"] == "UTC" and created["next_run_time"].endswith("+00:00")
    status, created = schedule(api, graph_id, user="bob", timezone="America/New_York")
    assert status == 200 and created["timezone"] == "America/New_York"
    assert aws_schedule(created["id"])["ScheduleExpressionTimezone"] == "America/New_York"
    assert datetime.fromisoformat(created["next_run_time"]).utcoffset() in (timedelta(hours=-5), timedelta(hours=-4))
    for bad in ("Mars/Olympus", "not-set", "", "utc+2"):
        status, body = schedule(api, graph_id, user="bob", timezone=bad)
        assert status == 422 and body["detail"][0]["loc"] == ["body", "timezone"], (bad, body)
    assert len(api.request("GET", "/api/schedules", user="bob")[1]) == 2  # nothing made by the 422s


@pytest.mark.parametrize(
    "expression, message",
    [
        ("61 * * * *", "minute value 61 is out of range 0-59"),
        ("* * *", "expected 5 fields"),
        ("0 0 30 2 *", "never matches a date"),
        ("0 9 1 * MON", "both restricted"),
        ("0 0 * * FUNDAY", "day-of-week has an invalid value"),
        ("*/0 * * * *", "step must be at least 1"),
        ("", "expected 5 fields"),
    ],
)
def test_invalid_cron_is_422_naming_the_field(api, started, expression, message):
    graph_id = upload(api)
    status, body = schedule(api, graph_id, cron=expression)
    assert status == 422 and body["detail"][0]["loc"] == ["body", "cron"], body
    assert message in body["detail"][0]["msg"]
    assert api.request("GET", "/api/schedules", user="alice") == (200, [])
    assert client("scheduler").list_schedules()["Schedules"] == []


def test_bad_bodies_and_unrunnable_inputs_create_nothing(api, started):
    graph_id = upload(api)
    status, body = api.request(
        "POST", f"/api/graphs/{graph_id}/schedules", user="alice", json_body={"cron": "* * * * *", "inputs": {}}
    )
    assert status == 422 and body["detail"][0]["loc"] == ["body", "name"]
    status, body = schedule(api, graph_id, graph_version=0)
    assert status == 422 and body["detail"][0]["loc"] == ["body", "graph_version"]
    status, body = schedule(api, graph_id, inputs={"a": 1})  # b is a required graph input
    assert status == 400 and body["detail"]["type"] == "validation_error"
    assert "'b'" in json.dumps(body["detail"]["node_errors"])
    assert api.request("GET", "/api/schedules", user="alice") == (200, [])


def test_a_mag_graph_is_checked_by_its_own_flow_and_cannot_be_scheduled_without_start(api, started):
    """Schedules validate a run as launches do (stratus.executions.flows.validate): a MAG graph
    runs on {"start": "<text>"}, so a schedule without it would fail every run: refused."""
    mag = {
        "name": "nightly_research",
        "nodes": [
            {
                "name": "writer",
                "model_name": "fake",
                "input_nodes": ["start"],
                "output_nodes": ["end"],
                "user_prompt": "Write about {{start}}",
            },
        ],
        "end_template": "{{writer}}",
    }
    status, saved = api.request("POST", "/api/mag/graphs", user="alice", json_body=mag)
    assert status == 201, saved
    for inputs in ({}, {"start": 5}, {"a": 2}):
        status, body = schedule(api, saved["graph_id"], inputs=inputs)
        assert 400 <= status < 500 and "start" in json.dumps(body["detail"]), (inputs, status, body)
    assert api.request("GET", "/api/schedules", user="alice") == (200, [])
    status, created = schedule(api, saved["graph_id"], inputs={"start": "the tides"})
    assert status == 200 and created["input_data"] == {"start": "the tides"}, created


def test_lists_by_user_and_by_graph(api, started):
    first, second = upload(api), upload(api, name="list_fanout.json")
    ids = [
        schedule(api, first, name="one")[1]["id"],
        schedule(api, first, name="two", cron="@daily")[1]["id"],
        schedule(api, second, name="three", inputs={"items": ["x"]})[1]["id"],
    ]
    status, mine = api.request("GET", "/api/schedules", user="alice")
    assert status == 200 and [s["id"] for s in mine] == ids
    assert all(s["next_run_time"] for s in mine)
    assert [s["name"] for s in api.request("GET", f"/api/graphs/{first}/schedules", user="alice")[1]] == ["one", "two"]
    assert [s["name"] for s in api.request("GET", f"/api/graphs/{second}/schedules", user="alice")[1]] == ["three"]


def test_another_users_graph_and_schedules_are_not_found(api, started):
    graph_id = upload(api)
    created = schedule(api, graph_id)[1]
    status, body = schedule(api, graph_id, user="bob")
    assert status == 404 and "not found" in body["detail"]
    assert api.request("GET", f"/api/graphs/{graph_id}/schedules", user="bob") == (200, [])
    assert api.request("GET", "/api/schedules", user="bob") == (200, [])
    status, body = api.request("DELETE", f"/api/schedules/{created['id']}", user="bob")
    assert status == 404 and body == {"detail": f"Schedule #{created['id']} not found"}
    assert aws_schedule(created["id"]) is not None
    assert len(api.request("GET", "/api/schedules", user="alice")[1]) == 1


def test_an_approved_store_version_can_be_scheduled_by_anyone(api, started):
    graph_id = upload(api)
    agents_table().put(approval_key(graph_id, 1))
    assert schedule(api, graph_id, user="bob")[0] == 404  # no version: only the owner's active graph
    status, created = schedule(api, graph_id, user="bob", graph_version=1)
    assert status == 200 and created["user_id"] == "bob" and created["graph_version"] == 1


def test_delete_removes_item_and_scheduler_schedule(api, started):
    graph_id = upload(api)
    created = schedule(api, graph_id)[1]
    assert api.request("DELETE", f"/api/schedules/{created['id']}", user="alice") == (200, {"id": created["id"]})
    assert agents_table().get(schedule_key("alice", created["id"]), consistent=True) is None
    assert aws_schedule(created["id"]) is None
    assert api.request("DELETE", f"/api/schedules/{created['id']}", user="alice")[0] == 404
    assert api.request("GET", f"/api/graphs/{graph_id}/schedules", user="alice") == (200, [])


def test_scheduler_failure_rolls_the_item_back(api, started, monkeypatch):
    graph_id = upload(api)
    scheduler = client("scheduler")

    def refuse(**_):
        raise scheduler.exceptions.ValidationException(
            {"Error": {"Code": "ValidationException", "Message": "Invalid Schedule Expression"}}, "CreateSchedule"
        )

    monkeypatch.setattr(scheduler, "create_schedule", refuse)
    status, body = schedule(api, graph_id)
    assert status == 422 and body["detail"][0]["loc"] == ["body", "cron"]
    assert "Invalid Schedule Expression" in body["detail"][0]["msg"]

    def fail(**_):
        raise scheduler.exceptions.InternalServerException(
            {"Error": {"Code": "InternalServerException", "Message": "boom"}}, "CreateSchedule"
        )

    monkeypatch.setattr(scheduler, "create_schedule", fail)
    assert schedule(api, graph_id)[0] == 500
    items, _ = agents_table().query("PK = :pk", {":pk": "USER#alice#SCHEDULES"}, consistent=True)
    assert items == []


# --- scheduled runs -------------------------------------------------------------------------
def test_scheduled_run_starts_the_execution_once_per_scheduled_time(api, started):
    graph_id = upload(api)
    created = schedule(api, graph_id)[1]
    event = run_event(created)
    result = api.runner.invoke("ScheduledRunFunction", event)
    assert not result.errored, result.payload
    summary = result.payload
    assert summary["status"] == "started" and summary["schedule_id"] == created["id"]
    assert summary["scheduled_time"] == "2026-05-01T23:30:00Z" and summary["execution_status"] == "QUEUED"
    execution = executions_table().get(meta_key(summary["graph_exec_id"]), consistent=True)
    assert execution["user_id"] == "alice" and execution["graph_id"] == graph_id and execution["graph_version"] == 1
    assert execution["inputs"] == {"a": 2, "b": 3}
    assert started == [summary["graph_exec_id"]]

    # EventBridge (or Lambda's async retry) delivering the same scheduled time again: no second run.
    again = api.runner.invoke("ScheduledRunFunction", event).payload
    # The retry finds the same execution; re-asking Step Functions to start a QUEUED one is
    # safe (same name and input), so only the set of started executions matters.
    assert again["graph_exec_id"] == summary["graph_exec_id"] and set(started) == {summary["graph_exec_id"]}
    item = agents_table().get(schedule_key("alice", created["id"]), consistent=True)
    assert item["run_count"] == 1 and item["last_execution_id"] == summary["graph_exec_id"]
    assert item["last_scheduled_time"] == "2026-05-01T23:30:00Z"

    later = api.runner.invoke("ScheduledRunFunction", run_event(created, "2026-05-02T23:30:00Z")).payload
    assert later["status"] == "started" and later["graph_exec_id"] != summary["graph_exec_id"]
    assert set(started) == {summary["graph_exec_id"], later["graph_exec_id"]}
    item = agents_table().get(schedule_key("alice", created["id"]), consistent=True)
    assert item["run_count"] == 2 and item["last_scheduled_time"] == "2026-05-02T23:30:00Z"


def test_scheduled_run_of_a_deleted_schedule_or_graph_does_not_fail_the_invocation(api, started):
    graph_id = upload(api)
    kept, dropped = schedule(api, graph_id)[1], schedule(api, graph_id)[1]
    dropped_event = run_event(dropped)
    api.request("DELETE", f"/api/schedules/{dropped['id']}", user="alice")
    result = api.runner.invoke("ScheduledRunFunction", dropped_event)
    assert not result.errored and result.payload["status"] == "skipped"

    kept_event = run_event(kept)
    assert api.request("DELETE", f"/api/graphs/{graph_id}", user="alice")[0] == 200
    result = api.runner.invoke("ScheduledRunFunction", kept_event)
    assert not result.errored and result.payload["status"] == "failed", result.payload
    assert "not found" in result.payload["error"]
    item = agents_table().get(schedule_key("alice", kept["id"]), consistent=True)
    assert "not found" in item["last_error"] and started == []


def test_a_run_without_a_scheduled_time_uses_the_current_minute(api, started):
    created = schedule(api, upload(api))[1]
    event = {"schedule_id": created["id"], "user_id": "alice"}
    first = api.runner.invoke("ScheduledRunFunction", event).payload
    assert first["status"] == "started" and first["scheduled_time"].endswith(":00Z")
    bad = api.runner.invoke("ScheduledRunFunction", {"schedule_id": created["id"]})
    assert bad.errored and "user_id" in bad.payload["errorMessage"]


# --- the cron calculator ----------------------------------------------------------------------
@pytest.mark.parametrize(
    "expression, aws",
    [
        ("* * * * *", "cron(* * * * ? *)"),
        ("*/15 9-17 * * MON-FRI", "cron(0/15 9-17 ? * 2-6 *)"),
        ("0 0 1 * *", "cron(0 0 1 * ? *)"),
        ("5 4 * * 7", "cron(5 4 ? * 1 *)"),
        ("0 9 * * 1,3,5", "cron(0 9 ? * 2,4,6 *)"),
        ("0 0 */2 * *", "cron(0 0 1/2 * ? *)"),
        ("1-59/2 * * * *", "cron(1/2 * * * ? *)"),
        ("0 12 1,15 jan-mar *", "cron(0 12 1,15 1-3 ? *)"),
        ("@weekly", "cron(0 0 ? * 1 *)"),
        ("0 0 1 * 0-6", "cron(0 0 * * ? *)"),  # both restricted, one matches every day: every day
    ],
)
def test_cron_converts_to_eventbridge_syntax(expression, aws):
    assert cron.parse(expression).to_aws() == aws
    # and back: EventBridge's form runs at the same times
    start, zone = datetime(2026, 1, 1, tzinfo=UTC), ZoneInfo("UTC")
    assert cron.parse_aws(aws).next_after(start, zone) == cron.parse(expression).next_after(start, zone)


def test_cron_next_run_follows_daylight_saving_like_eventbridge():
    paris = ZoneInfo("Europe/Paris")
    at_half_past_two = cron.parse("30 2 * * *")
    # 2026-03-29 02:30 does not exist in Paris: that day is skipped.
    assert (
        at_half_past_two.next_after(datetime(2026, 3, 28, 12, tzinfo=UTC), paris).isoformat()
        == "2026-03-30T02:30:00+02:00"
    )
    # 2026-10-25 02:30 happens twice: it runs once, on the first pass.
    first = at_half_past_two.next_after(datetime(2026, 10, 24, 12, tzinfo=UTC), paris)
    assert first.isoformat() == "2026-10-25T02:30:00+02:00"
    assert at_half_past_two.next_after(first, paris).isoformat() == "2026-10-26T02:30:00+01:00"
    leap = cron.parse("0 0 29 2 *").next_after(datetime(2026, 1, 1, tzinfo=UTC), ZoneInfo("UTC"))
    assert leap.isoformat() == "2028-02-29T00:00:00+00:00"
    either_day = cron.parse("0 0 13 * 5")  # the 13th or a Friday (Vixie cron)
    runs, moment = [], datetime(2026, 2, 1, tzinfo=UTC)
    for _ in range(4):
        moment = either_day.next_after(moment, ZoneInfo("UTC"))
        runs.append(moment.day)
    assert runs == [6, 13, 20, 27]  # 13 Feb 2026 is itself a Friday


# --- the local cloud's scheduler --------------------------------------------------------------
class Clock:
    def __init__(self, now: datetime):
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def wait_result(local: LocalScheduler, count: int) -> list[dict]:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if len(local.fired) >= count and all(f["result"] is not None for f in local.fired):
            return local.fired
        time.sleep(0.02)
    raise AssertionError(f"no result in time: {local.fired}")


def test_local_scheduler_fires_when_due_with_the_scheduled_time(api, started, tmp_path):
    graph_id = upload(api)
    created = schedule(api, graph_id, cron="*/5 * * * *", timezone="Europe/Paris")[1]
    clock = Clock(datetime(2026, 6, 1, 10, 2, 30, tzinfo=UTC))
    local = LocalScheduler(api.runner, client("scheduler"), threading.Event(), tmp_path, now=clock)
    assert local.tick() == 0  # first seen: waits for its next occurrence, 10:05
    clock.now = datetime(2026, 6, 1, 10, 4, 59, tzinfo=UTC)
    assert local.tick() == 0
    clock.now = datetime(2026, 6, 1, 10, 5, 0, 400000, tzinfo=UTC)
    assert local.tick() == 1 and local.tick() == 0
    fired = wait_result(local, 1)[0]
    assert fired["payload"] == {
        "schedule_id": created["id"],
        "user_id": "alice",
        "scheduled_time": "2026-06-01T10:05:00Z",
    }
    assert fired["result"]["status"] == "started"
    assert executions_table().get(meta_key(fired["result"]["graph_exec_id"]), consistent=True)["inputs"] == {
        "a": 2,
        "b": 3,
    }
    # A deleted schedule is forgotten.
    api.request("DELETE", f"/api/schedules/{created['id']}", user="alice")
    clock.now = datetime(2026, 6, 1, 10, 10, 1, tzinfo=UTC)
    assert local.tick() == 0 and local.tracked == {}


def test_local_scheduler_fire_now_file_hook_and_restore(api, started, tmp_path):
    created = schedule(api, upload(api))[1]
    local = LocalScheduler(api.runner, client("scheduler"), threading.Event(), tmp_path)
    assert local.fire_now(created["id"]) and not local.fire_now("no-such-schedule")
    (tmp_path / "scheduler" / "fire").mkdir(parents=True)
    (tmp_path / "scheduler" / "fire" / created["id"]).write_text(GROUP)
    time.sleep(1.01)  # a new scheduled time (to the second), so a new run
    assert local.tick() == 1 and not (tmp_path / "scheduler" / "fire" / created["id"]).exists()
    results = [f["result"] for f in wait_result(local, 2)]
    assert [r["status"] for r in results] == ["started", "started"]
    assert results[0]["graph_exec_id"] != results[1]["graph_exec_id"]

    # moto starts empty: a restarted local cloud re-creates the schedules it saw.
    saved = json.loads((tmp_path / "scheduler" / "schedules.json").read_text())
    assert [s["Name"] for s in saved] == [created["id"]]
    client("scheduler").delete_schedule(Name=created["id"], GroupName=GROUP)
    again = LocalScheduler(api.runner, client("scheduler"), threading.Event(), tmp_path)
    assert again.restore() == 1 and aws_schedule(created["id"])["ScheduleExpression"] == "cron(30 8 * * ? *)"
    assert again.restore() == 0
