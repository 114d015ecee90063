"""Allocates and touches ``mb`` MiB so the pages are really resident."""


def handler(event, context):
    size = int(event.get("mb", 200)) * 2**20
    block = bytearray(size)
    for i in range(0, size, 4096):
        block[i] = 1
    return {"allocated_mb": size // 2**20}
