"""What an AWS service answered, read out of botocore's errors once for every gateway (schemas/errors.py)."""

from __future__ import annotations

import botocore.exceptions

from lamctl.schemas.errors import error_code, error_message, http_status


def test_a_client_error_gives_its_code_message_and_status():
    exc = botocore.exceptions.ClientError(
        {"Error": {"Code": "NoSuchKey", "Message": "The specified key does not exist."},
         "ResponseMetadata": {"HTTPStatusCode": 404}}, "GetObject")
    assert (error_code(exc), error_message(exc), http_status(exc)) == \
        ("NoSuchKey", "The specified key does not exist.", 404)


def test_a_head_request_answer_has_a_status_code_for_a_code_and_no_message():
    exc = botocore.exceptions.ClientError({"Error": {"Code": "404", "Message": ""},
                                           "ResponseMetadata": {"HTTPStatusCode": 404}}, "HeadBucket")
    assert (error_code(exc), error_message(exc), http_status(exc)) == ("404", "", 404)


def test_failures_without_an_answer_have_no_code_and_no_status():
    for exc in (botocore.exceptions.EndpointConnectionError(endpoint_url="http://127.0.0.1:1"),
                ValueError("x"), botocore.exceptions.ClientError({}, "Invoke")):
        assert (error_code(exc), error_message(exc), http_status(exc)) == ("", "", 0), exc
