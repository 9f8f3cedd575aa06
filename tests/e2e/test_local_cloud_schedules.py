"""Schedules through the local cloud: created over HTTP (LibraryFunction → moto's EventBridge
Scheduler), fired by the local scheduler (ScheduledRunFunction), run to the end on the real ASL."""

from __future__ import annotations

import json

import httpx
from boto3.dynamodb.types import TypeDeserializer

from tests.e2e.conftest import ROOT, auth, wait_final, wait_for


def test_a_schedule_created_over_http_fires_and_its_execution_completes(cloud):
    user = "sched-alice"
    with httpx.Client(base_url=cloud.http, timeout=30) as http:
        assert http.post("/api/auth/user", headers=auth(user)).status_code == 200
        http.post("/api/auth/user/timezone", headers=auth(user), json={"timezone": "Europe/Paris"})
        graph = http.post(
            "/api/graphs",
            headers=auth(user),
            json={"graph": json.loads((ROOT / "examples" / "calculator.json").read_text())},
        ).json()
        created = http.post(
            f"/api/graphs/{graph['id']}/schedules",
            headers=auth(user),
            json={"name": "hourly sum", "cron": "0 * * * *", "inputs": {"a": 2, "b": 3}},
        )
        assert created.status_code == 200, created.text
        schedule = created.json()
        assert schedule["timezone"] == "Europe/Paris" and schedule["next_run_time"].endswith(("+01:00", "+02:00"))
        bad = http.post(
            f"/api/graphs/{graph['id']}/schedules",
            headers=auth(user),
            json={"name": "bad", "cron": "0 25 * * *", "inputs": {"a": 2, "b": 3}},
        )
        assert bad.status_code == 422 and bad.json()["detail"][0]["loc"] == ["body", "cron"]

        aws = cloud.client("scheduler").get_schedule(Name=schedule["id"], GroupName="ScheduleGroup")
        assert aws["ScheduleExpression"] == "cron(0 * * * ? *)" and aws["ScheduleExpressionTimezone"] == "Europe/Paris"

        # Fire it now through the local scheduler's hook instead of waiting for the hour.
        requests = cloud.state_dir / "scheduler" / "fire"
        requests.mkdir(parents=True, exist_ok=True)
        (requests / schedule["id"]).write_text("")

        def scheduled_executions() -> list[dict]:
            listed = http.get("/api/executions", headers=auth(user)).json()
            return [e for e in listed if e["graph_id"] == graph["id"]]

        executions = wait_for(scheduled_executions, timeout=30, interval=0.2)
        assert len(executions) == 1 and executions[0]["inputs"] == {"a": 2, "b": 3}
        final = wait_final(cloud, executions[0]["id"])
        assert final["status"] == "COMPLETED" and "result" in final["outputs"], final

        item = cloud.client("dynamodb").get_item(
            TableName="StoreTable",
            Key={"PK": {"S": f"USER#{user}#SCHEDULES"}, "SK": {"S": f"SCHEDULE#{schedule['id']}"}},
            ConsistentRead=True,
        )["Item"]
        recorded = {k: TypeDeserializer().deserialize(v) for k, v in item.items()}
        assert recorded["last_execution_id"] == executions[0]["id"] and recorded["run_count"] == 1

        listed = http.get(f"/api/graphs/{graph['id']}/schedules", headers=auth(user)).json()
        assert [s["id"] for s in listed] == [schedule["id"]]
        assert http.get("/api/schedules", headers=auth("sched-bob")).json() == []
        assert http.delete(f"/api/schedules/{schedule['id']}", headers=auth("sched-bob")).status_code == 404
        deleted = http.delete(f"/api/schedules/{schedule['id']}", headers=auth(user))
        assert deleted.status_code == 200 and deleted.json() == {"id": schedule["id"]}
        remaining = cloud.client("scheduler").list_schedules(GroupName="ScheduleGroup")["Schedules"]
        assert schedule["id"] not in {s["Name"] for s in remaining}
        assert http.get("/api/schedules", headers=auth(user)).json() == []
