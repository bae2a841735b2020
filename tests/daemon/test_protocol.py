"""Protocol handling: framing, garbage input, batches, concurrency, notifications."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest
from daemon_helpers import RawClient, running_daemon

from tldr.daemon import protocol
from tldr.daemon.runner import Daemon


async def test_ping_and_search(raw: RawClient) -> None:
    answer = await raw.call("ping")
    assert answer["result"]["pong"] is True
    answer = await raw.call("search", {"query": "parse the configuration file", "k": 2})
    result = answer["result"]
    assert result["results"][0]["qualified_name"] == "parse_config"
    assert set(result) >= {"results", "build_id", "took_ms", "embed_ms", "stale"}


async def test_garbage_gets_errors_and_connection_survives(raw: RawClient) -> None:
    cases = [
        (b"{not json\n", protocol.PARSE_ERROR),
        (b"\xff\xfe\n", protocol.PARSE_ERROR),
        (b"42\n", protocol.INVALID_REQUEST),
        (b'{"jsonrpc": "1.0", "id": 1, "method": "ping"}\n', protocol.INVALID_REQUEST),
        (b'{"jsonrpc": "2.0", "id": 2, "method": 7}\n', protocol.INVALID_REQUEST),
        (b'{"jsonrpc": "2.0", "id": 3, "method": "nope"}\n', protocol.METHOD_NOT_FOUND),
        (b'{"jsonrpc": "2.0", "id": 4, "method": "search", "params": {"k": 2}}\n',
         protocol.INVALID_PARAMS),
        (b'{"jsonrpc": "2.0", "id": 5, "method": "search", "params": {"query": 1}}\n',
         protocol.INVALID_PARAMS),
        (b'{"jsonrpc": "2.0", "id": 6, "method": "search", '
         b'"params": {"query": "x", "bogus": true}}\n', protocol.INVALID_PARAMS),
        (b'{"jsonrpc": "2.0", "id": 7, "method": "search", "params": ["x"]}\n',
         protocol.INVALID_PARAMS),
        (b'{"jsonrpc": "2.0", "id": 8, "method": "search", "params": {"query": "x", "k": 0}}\n',
         protocol.INVALID_PARAMS),
        (b"[]\n", protocol.INVALID_REQUEST),
    ]
    for line, code in cases:
        await raw.send(line)
        answer = await raw.recv()
        assert answer["error"]["code"] == code, (line, answer)
        assert answer["jsonrpc"] == "2.0"
    assert (await raw.call("ping"))["result"]["pong"] is True


async def test_notification_request_gets_no_response(raw: RawClient) -> None:
    await raw.send({"jsonrpc": "2.0", "method": "ping"})
    await raw.send({"jsonrpc": "2.0", "method": "no-such-method"})
    answer = await raw.call("ping")
    assert answer["id"] == 1 and answer["result"]["pong"]


async def test_batch(raw: RawClient) -> None:
    await raw.send([
        {"jsonrpc": "2.0", "id": "a", "method": "ping"},
        {"jsonrpc": "2.0", "method": "ping"},
        {"jsonrpc": "2.0", "id": "b", "method": "search", "params": {"query": "retry backoff"}},
        {"jsonrpc": "2.0", "id": "c", "method": "nope"},
        "garbage",
    ])
    answers = await raw.recv()
    by_id = {answer["id"]: answer for answer in answers}
    assert len(answers) == 4
    assert by_id["a"]["result"]["pong"]
    assert by_id["b"]["result"]["results"][0]["name"] == "backoff"
    assert by_id["c"]["error"]["code"] == protocol.METHOD_NOT_FOUND
    assert by_id[None]["error"]["code"] == protocol.INVALID_REQUEST


async def test_oversized_line_closes_only_that_connection(built: object) -> None:
    from daemon_helpers import running_daemon

    async with running_daemon(built, max_request_bytes=4096) as daemon:  # type: ignore[arg-type]
        bystander = await RawClient.open(daemon)
        big = await RawClient.open(daemon)
        await big.send(b'{"jsonrpc": "2.0", "id": 1, "method": "ping", "params": {"x": "'
                       + b"a" * 10000)  # never-ending: no newline, over the limit
        answer = await big.recv()
        assert answer["error"]["code"] == protocol.TOO_LARGE
        assert await big.recv() is None  # closed
        assert (await bystander.call("ping"))["result"]["pong"]
        await big.close()
        await bystander.close()


async def test_disconnect_mid_request(daemon: Daemon) -> None:
    for _ in range(5):
        client = await RawClient.open(daemon)
        await client.send({"jsonrpc": "2.0", "id": 1, "method": "search",
                           "params": {"query": "http handler"}})
        await client.send(b'{"jsonrpc": "2.0", "id": 2, "method": "pi')  # half a line
        await client.close()
    survivor = await RawClient.open(daemon)
    assert (await survivor.call("ping"))["result"]["pong"]
    await survivor.close()


async def test_pipelined_requests_on_one_connection(raw: RawClient) -> None:
    queries = ["parse config", "retry backoff", "http handler"] * 20
    for number, query in enumerate(queries):
        await raw.send({"jsonrpc": "2.0", "id": number, "method": "search",
                        "params": {"query": query, "k": 1}})
    answers = [await raw.recv() for _ in queries]
    assert sorted(answer["id"] for answer in answers) == list(range(len(queries)))
    expected = {"parse config": "parse_config", "retry backoff": "backoff",
                "http handler": "http_handler"}
    for answer in answers:
        assert answer["result"]["results"][0]["name"] == expected[queries[answer["id"]]]


async def test_many_clients(daemon: Daemon) -> None:
    async def one(number: int) -> str:
        client = await RawClient.open(daemon)
        try:
            answer = await client.call("search", {"query": "retry backoff", "k": 1})
            return str(answer["result"]["results"][0]["name"])
        finally:
            await client.close()

    names = await asyncio.gather(*(one(number) for number in range(40)))
    assert names == ["backoff"] * 40
    assert daemon.service.counts["searches"] == 40


async def test_request_timeout(built: object) -> None:
    from daemon_helpers import running_daemon

    async with running_daemon(built, request_timeout=0.05) as daemon:  # type: ignore[arg-type]
        async def slow(params: object, conn: object) -> None:
            await asyncio.sleep(1)

        from tldr.daemon.server import Method

        daemon.server.methods["slow"] = Method(protocol.InfoParams, slow)
        client = await RawClient.open(daemon)
        answer = await client.call("slow")
        assert answer["error"]["code"] == protocol.TIMEOUT
        assert (await client.call("ping"))["result"]["pong"]
        await client.close()


async def test_subscribe_gets_build_notifications(raw: RawClient, daemon: Daemon) -> None:
    answer = await raw.call("subscribe", {"events": ["index.updated", "build.progress"]})
    assert answer["result"]["events"] == ["build.progress", "index.updated"]
    bad = await raw.call("subscribe", {"events": ["nope"]})
    assert bad["error"]["code"] == protocol.INVALID_PARAMS
    await raw.send({"jsonrpc": "2.0", "id": 99, "method": "index",
                    "params": {"wait": True, "rebuild": True, "timeout": 30}})
    seen: list[str] = []
    response = updated = None
    while response is None or updated is None:
        message = await raw.recv(timeout=10)
        if message.get("id") == 99:
            response = message
        else:
            seen.append(message["method"])
            if message["method"] == "index.updated":
                updated = message
    assert response["result"]["status"] in ("built", "updated")
    assert updated["params"]["build_id"] == response["result"]["build_id"]
    assert seen.index("index.updated") == len(seen) - 1


def test_error_mapping_round_trip() -> None:
    from tldr._exceptions import IndexBusyError, IndexMissingError, LegacyIndexError

    for exc, kind in [(IndexMissingError("m"), IndexMissingError),
                      (IndexBusyError("b"), IndexBusyError),
                      (LegacyIndexError("l"), LegacyIndexError)]:
        error = protocol.error_for_exception(exc).to_object()
        assert isinstance(protocol.exception_for_error(error), kind)


async def test_invalid_search_requests_name_the_valid_values(raw: RawClient) -> None:
    for params, expected in (
        ({"query": "x", "lang": "klingon"}, "choose one of: bash, c, clojure"),
        ({"query": "x", "mode": "fuzzy"}, "choose one of: hybrid, dense, lexical"),
        ({"query": "x", "unit_type": "lambda"}, "choose one of: function, method"),
        ({"query": "???"}, "no words or identifiers"),
        ({"query": "x", "language": "go"}, "did you mean 'lang'?"),
        ({"query": "x", "path_prefix": "../.."}, "outside the project"),
    ):
        answer = await raw.call("search", params)
        assert answer["error"]["code"] == protocol.INVALID_PARAMS, (params, answer)
        assert expected in answer["error"]["message"], (params, answer)


async def test_search_path_prefix_and_language_are_normalised(raw: RawClient) -> None:
    answer = await raw.call("search", {"query": "backoff", "path_prefix": "./app/",
                                       "lang": "Python"})
    rows = answer["result"]["results"]
    assert rows and all(row["file"].startswith("app/") for row in rows)


async def test_unavailable_reranker_is_reported_to_the_client(
        built: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("TLDR_RERANK_MODEL", str(tmp_path / "no-such-cross-encoder"))
    async with running_daemon(built) as daemon:
        client = await RawClient.open(daemon)
        try:
            answers = []
            for _ in range(2):  # the second search does not look again
                started = time.perf_counter()
                answers.append(await client.call(
                    "search", {"query": "backoff", "rerank": True}, timeout=30))
                assert time.perf_counter() - started < 5.0
        finally:
            await client.close()
    for answer in answers:
        assert "result" in answer, answer
        result = answer["result"]
        assert result["results"]
        (warning,) = result["warnings"]
        assert warning.startswith("no reranker model available offline: ")
