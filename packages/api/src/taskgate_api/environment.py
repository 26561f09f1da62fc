"""Where the api's settings come from: the process environment, then a `.env` file in the working
directory; an empty value counts as unset in both, as in every taskgate package.

Light on purpose: the prefork supervisor reads API_WORKERS through it without loading pydantic.
"""

import os

#: Read from the working directory, as pydantic-settings reads the api's other settings.
ENV_FILE = ".env"


def setting(name: str) -> str | None:
    """One variable as the api's settings read it: the environment's value, else `.env`'s, else None."""
    if os.environ.get(name):
        return os.environ[name]
    # Imported only when `.env` is read: given --workers, the supervisor does without it (1 MB).
    from dotenv import dotenv_values

    return dotenv_values(ENV_FILE).get(name) or None
