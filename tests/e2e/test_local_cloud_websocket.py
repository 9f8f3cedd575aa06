"""The WebSocket gateway and the management endpoint over real sockets on loopback."""

from __future__ import annotations

import asyncio
import json

import pytest
from botocore.exceptions import ClientError
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from tests.e2e.conftest import e2e_token, wait_for


def _management(cloud):
    import boto3

    return boto3.client(
        "apigatewaymanagementapi",
        endpoint_url=f"{cloud.http}/@ws/ws",
        region_name="us-east-1",
        aws_access_key_id="local",
        aws_secret_access_key="local",
    )


def test_connect_is_refused_without_or_with_a_bad_token(cloud):
    async def attempt(url):
        with pytest.raises(InvalidStatus) as refused:
            async with connect(url):
                pass
        return refused.value.response.status_code

    assert asyncio.run(attempt(cloud.ws)) == 401
    assert asyncio.run(attempt(f"{cloud.ws}?token=garbage")) == 403


def test_heartbeat_and_route_selection(cloud):
    async def session():
        async with connect(f"{cloud.ws}?token={e2e_token('ws-alice')}") as socket:
            await socket.send(json.dumps({"method": "heartbeat"}))
            pong = json.loads(await asyncio.wait_for(socket.recv(), 10))
            await socket.send(json.dumps({"method": "no_such_method", "data": {}}))
            unknown = json.loads(await asyncio.wait_for(socket.recv(), 10))
            return pong, unknown

    pong, unknown = asyncio.run(session())
    assert pong == {"method": "heartbeat", "data": "pong", "success": True}
    assert unknown["success"] is False and "no_such_method" in unknown["error"]


def test_connections_are_stored_and_removed(cloud):
    table = cloud.client("dynamodb")

    def stored_users():
        items = table.scan(TableName="ConnectionsTable")["Items"]
        return {item["user_id"]["S"] for item in items if item["SK"]["S"] == "META"}

    async def session():
        async with connect(f"{cloud.ws}?token={e2e_token('ws-bob')}"):
            wait_for(lambda: "ws-bob" in stored_users())

    asyncio.run(session())
    wait_for(lambda: "ws-bob" not in stored_users())


def test_management_api_posts_gets_and_deletes(cloud):
    management = _management(cloud)

    async def session():
        async with connect(f"{cloud.ws}?token={e2e_token('ws-carol')}") as socket:
            connection_ids = await asyncio.to_thread(_connection_ids_for, cloud, "ws-carol")
            connection_id = connection_ids[0]
            await asyncio.to_thread(
                management.post_to_connection, ConnectionId=connection_id, Data=b'{"method":"hello"}'
            )
            message = json.loads(await asyncio.wait_for(socket.recv(), 10))
            info = await asyncio.to_thread(management.get_connection, ConnectionId=connection_id)
            await asyncio.to_thread(management.delete_connection, ConnectionId=connection_id)
            with pytest.raises(ConnectionClosed):
                await asyncio.wait_for(socket.recv(), 10)
            return connection_id, message, info

    connection_id, message, info = asyncio.run(session())
    assert message == {"method": "hello"}
    assert info["Identity"]["SourceIp"] == "127.0.0.1"
    with pytest.raises(ClientError) as gone:
        management.post_to_connection(ConnectionId=connection_id, Data=b"late")
    assert gone.value.response["ResponseMetadata"]["HTTPStatusCode"] == 410


def _connection_ids_for(cloud, user_id: str) -> list[str]:
    table = cloud.client("dynamodb")

    def find():
        items = table.scan(TableName="ConnectionsTable")["Items"]
        return [i["connection_id"]["S"] for i in items if i.get("user_id", {}).get("S") == user_id]

    return wait_for(find)
