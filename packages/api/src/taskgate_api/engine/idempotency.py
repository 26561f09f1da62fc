"""`Idempotency-Key`: the same key within the result expiry attaches to the same task, once.

The first request with a key claims it atomically (SET NX) with the task id it is about to send and a
fingerprint of its task type and arguments; a duplicate — concurrent or later — finds the claim and
attaches to that task instead of sending another. The same key with another type or other arguments is
refused.
"""

import contextlib
import hashlib
import json
from dataclasses import dataclass

from pydantic import BaseModel
from redis.asyncio import Redis
from redis.exceptions import RedisError

from taskgate_api.engine.errors import IdempotencyConflictError, redis_errors

_KEY_PREFIX = "taskgate:idempotency:"


@dataclass(frozen=True, slots=True)
class Claim:
    task_id: str
    #: True when this request made the claim and must send the task; False when it attaches to one.
    new: bool


class IdempotencyKeys:
    def __init__(self, redis: Redis, address: str, expires: int) -> None:
        self._redis = redis
        self._address = address
        self._expires = expires

    async def claim(self, key: str, task_type: str, args: BaseModel, task_id: str) -> Claim:
        fingerprint = hashlib.sha256(f"{task_type}:{args.model_dump_json()}".encode()).hexdigest()
        claim = json.dumps({"task_id": task_id, "fingerprint": fingerprint})
        with redis_errors(self._address):
            if await self._redis.set(_redis_key(key), claim, nx=True, ex=self._expires):
                return Claim(task_id, new=True)
            existing = await self._redis.get(_redis_key(key))
        if existing is None:  # expired between the two commands: claim it again
            return await self.claim(key, task_type, args, task_id)
        held = json.loads(existing)
        if held["fingerprint"] != fingerprint:
            raise IdempotencyConflictError()
        return Claim(held["task_id"], new=False)

    async def release(self, key: str) -> None:
        """Free the key of a request whose task could not be sent, so a retry can send it."""
        with contextlib.suppress(RedisError, OSError):  # if not, the claim expires by itself
            await self._redis.delete(_redis_key(key))


def _redis_key(key: str) -> str:
    return _KEY_PREFIX + hashlib.sha256(key.encode()).hexdigest()
