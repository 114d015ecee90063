"""CPU-bound handler: a fixed amount of pure-Python work."""


def handler(event, context):
    n = int(event.get("n", 2_000_000))
    total = 0
    for i in range(n):
        total += i * i % 7
    return {"total": total}
