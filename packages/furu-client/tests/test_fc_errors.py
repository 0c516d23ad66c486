"""Every error code maps to its exception; transport and non-API answers are typed too."""

from __future__ import annotations

import json
import pickle

import httpx
import pytest

import furu_client
from furu_client import (
    ERROR_CLASSES,
    ErrorCode,
    ExperimentNotFoundError,
    FilterSyntaxError,
    FuruAPIError,
    FuruClient,
    FuruConnectionError,
    FuruResponseError,
)


def _client(handler: object) -> FuruClient:
    return FuruClient(
        "http://furu.test", http_client=httpx.Client(transport=httpx.MockTransport(handler))
    )  # type: ignore[arg-type]


def test_every_code_has_its_own_exception_class() -> None:
    assert set(ERROR_CLASSES) == set(ErrorCode)
    classes = list(ERROR_CLASSES.values())
    assert len(set(classes)) == len(classes)
    for cls in classes:
        assert issubclass(cls, FuruAPIError)
        assert cls is not FuruAPIError
        assert cls.__name__ in furu_client.__all__


@pytest.mark.parametrize("code", list(ErrorCode))
def test_each_envelope_raises_its_exception(code: ErrorCode) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        body = {
            "error": {
                "code": code.value,
                "message": f"about {code.value}",
                "detail": {"position": 3},
            }
        }
        return httpx.Response(418, json=body)

    with _client(handler) as client, pytest.raises(ERROR_CLASSES[code]) as err:
        client.health()
    assert (err.value.status, err.value.code, err.value.message) == (
        418,
        code.value,
        f"about {code.value}",
    )
    assert str(err.value) == f"about {code.value} [{code.value}, HTTP 418]"
    again = pickle.loads(pickle.dumps(err.value))
    assert type(again) is type(err.value)
    assert (again.status, again.code, again.detail) == (418, code.value, {"position": 3})


def test_filter_syntax_errors_expose_the_position() -> None:
    err = FilterSyntaxError(
        "x", status=400, code="filter_syntax", detail={"position": 7, "token": "<"}
    )
    assert (err.position, err.token) == (7, "<")


def test_an_unknown_code_is_a_plain_api_error() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(400, json={"error": {"code": "from_the_future", "message": "m"}})

    with _client(handler) as client, pytest.raises(FuruAPIError) as err:
        client.get_experiment("a.B", "h")
    assert type(err.value) is FuruAPIError
    assert err.value.code == "from_the_future"


def test_an_answer_that_is_not_the_api_is_a_response_error() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(502, text="<html>bad gateway</html>")

    with _client(handler) as client, pytest.raises(FuruResponseError) as err:
        client.get_stats()
    assert err.value.status == 502
    assert "bad gateway" in err.value.body
    assert pickle.loads(pickle.dumps(err.value)).status == 502

    def wrong_shape(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"nothing": "here"})

    with _client(wrong_shape) as client, pytest.raises(FuruResponseError):
        client.health()


def test_a_transport_failure_is_a_connection_error() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    with _client(handler) as client, pytest.raises(FuruConnectionError) as err:
        client.version()
    assert "http://furu.test" in str(err.value)


def test_requests_carry_the_token_and_quote_paths() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(
            404, json={"error": {"code": "experiment_not_found", "message": "no"}}
        )

    http = httpx.Client(transport=httpx.MockTransport(handler))
    with FuruClient("http://furu.test/", token="s3cret", http_client=http) as client:
        with pytest.raises(ExperimentNotFoundError):
            client.get_file("a.B", "h/1", "dir/with space.txt")
        with pytest.raises(ExperimentNotFoundError):
            client.search("config.lr < 1", query="status = success")
    assert seen[0].headers["authorization"] == "Bearer s3cret"
    assert seen[0].url.raw_path == b"/api/experiments/a.B/h%2F1/files/dir/with%20space.txt"
    assert json.loads(seen[1].content)["query"] == "(config.lr < 1) and (status = success)"
    assert not http.is_closed
