"""The workshop's first function: answers with its greeting, "Hello World" unless the stack's Greeting
parameter says otherwise (the template passes it as the environment variable GREETING)."""

import json
import os


def lambda_handler(event, context):
    return {
        "statusCode": 200,
        "headers": {"Content-Type": "application/json"},
        "body": json.dumps({"message": os.environ.get("GREETING", "Hello World")}),
    }
