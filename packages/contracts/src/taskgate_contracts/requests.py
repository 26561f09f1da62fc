"""What HTTP clients send beside a task type's arguments (each type's args model is its body)."""

#: The request header that makes a POST idempotent: the same key attaches to the same task.
IDEMPOTENCY_HEADER = "Idempotency-Key"
