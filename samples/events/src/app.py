"""The functions of the events sample (see README.md)."""

import json
import urllib.parse

import boto3


def process(event, context):
    """An S3 upload: a key containing "bad" fails (retried once, then its record goes to the OnFailure queue)."""
    for record in event["Records"]:
        key = urllib.parse.unquote_plus(record["s3"]["object"]["key"])
        if "bad" in key:
            raise ValueError(f"cannot process {key}")
        body = boto3.client("s3").get_object(Bucket=record["s3"]["bucket"]["name"], Key=key)["Body"].read()
        print(f"processed {key}: {len(body)} bytes")
    return {"processed": len(event["Records"])}


def nightly(event, context):
    """The schedule: EventBridge's "Scheduled Event"."""
    print(f"nightly run for {event['time']} ({event['resources'][0]})")
    return {"ran": event["time"]}


def web(event, context):
    """The function URL: payload format 2.0."""
    return {"statusCode": 200, "headers": {"Content-Type": "application/json"},
            "body": json.dumps({"path": event["rawPath"], "method": event["requestContext"]["http"]["method"],
                                "query": event.get("queryStringParameters") or {}})}
