"""Whether this machine's RabbitMQ and Redis can serve the end-to-end steps of the release sessions.

python -m release.services      # prints one line per missing service; exit 1 when any is missing
"""

from tests.infrastructure import rabbitmq_problem, redis_problem


def main() -> int:
    problems = [problem for problem in (rabbitmq_problem(), redis_problem()) if problem is not None]
    for problem in problems:
        print(problem)
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
