"""Memory-hungry demo function: allocates and touches ~200 MB.

Fails with Runtime.OutOfMemory at 128 MB, works from 256 MB.
"""

ALLOCATE_BYTES = 200 * 1000 * 1000


def handler(event, context):
    size = int((event or {}).get("bytes", ALLOCATE_BYTES))
    block = b"\x01" * size  # written by memset, so every page is really touched
    return {"allocated_bytes": len(block), "checksum": block[-1] + block[size // 2]}
