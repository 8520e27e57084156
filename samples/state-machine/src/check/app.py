"""Check an order: it is valid when it has items; the total is computed here."""


def handler(event, context):
    items = event.get("items") or []
    total = sum(int(item.get("price", 0)) * int(item.get("quantity", 1)) for item in items)
    return {"order": event.get("order"), "valid": bool(items), "total": total}
