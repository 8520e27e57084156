"""CPU-bound work in one thread: SHA-256 over and over, as many rounds as the event asks (default 200,000).

Its duration follows the CPU the function gets: on Lambda (and on lamctl's local cloud, where cgroups allow)
that grows with MemorySize up to one vCPU at 1,769 MB; more memory adds vCPUs, which one thread cannot use.
"""

import hashlib


def handler(event, context):
    rounds = int((event or {}).get("rounds", 200_000))
    digest = b"lamctl"
    for _ in range(rounds):
        digest = hashlib.sha256(digest).digest()
    return {"rounds": rounds, "digest": digest.hex(), "memory": context.memory_limit_in_mb}
