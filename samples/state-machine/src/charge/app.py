"""Charge an order; an amount over the card's limit is declined (an error the state machine catches)."""

LIMIT = 500


class PaymentDeclined(Exception):
    pass


def handler(event, context):
    if event["total"] > LIMIT:
        raise PaymentDeclined(f"{event['total']} is over the limit of {LIMIT}")
    return {"order": event["order"], "status": "charged", "total": event["total"]}
