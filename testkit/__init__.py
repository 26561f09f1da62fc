"""What the end-to-end tests, the benchmark and the release tooling share: this machine's RabbitMQ and
Redis as they use them (`infrastructure`), and the real services as child processes (`processes`)."""
