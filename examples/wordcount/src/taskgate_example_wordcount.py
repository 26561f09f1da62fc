"""`example.wordcount`: fetch a web page and count its words.

Both halves of the task type live in this one module because the handler needs nothing beyond the
standard library; a handler with heavy dependencies would go in a module of its own, so that the api,
which loads only the spec, never imports them.

The page's server may falter — a refused connection, a timeout, a 5xx answer: those failures are
transient, and the retry policy tries again with backoff. A 4xx answer or a page that is not text is
the client's mistake and fails the task at once.
"""

import re
import urllib.error
import urllib.request

from pydantic import BaseModel, ConfigDict, Field

from taskgate_contracts import RetryPolicy, TaskContext, TaskSpec, TransientError

_WORD = re.compile(r"\w+")
_TIMEOUT_SECONDS = 10
_MAX_BYTES = 5_000_000


class WordcountArgs(BaseModel):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"url": "https://example.org/"}]}
    )

    # Plain text rather than pydantic's HttpUrl: a URL normalised by one side (percent-encoded, longer)
    # must still be valid when the other validates it again.
    url: str = Field(
        pattern=r"^https?://[!-~]+$",
        max_length=2000,
        description="The page to count the words of (http or https).",
    )


class WordcountResult(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"words": 29, "characters": 1256}]})

    words: int = Field(ge=0, description="Words on the page: runs of letters, digits and underscores.")
    characters: int = Field(ge=0, description="Characters of the page's text.")


WORDCOUNT = TaskSpec(
    name="example.wordcount",
    args=WordcountArgs,
    result=WordcountResult,
    description="Count the words of a web page, trying again while its server falters.",
    soft_time_limit=60,
    retry=RetryPolicy(attempts=4, backoff=1, backoff_max=8),
)


def count_words(args: WordcountArgs, context: TaskContext) -> WordcountResult:
    context.report(0, f"fetching {args.url} (attempt {context.attempt})")
    text = _fetch(args.url)
    context.report(50, f"counting the words of {len(text):,} characters")
    return WordcountResult(words=len(_WORD.findall(text)), characters=len(text))


def _fetch(url: str) -> str:
    try:
        with urllib.request.urlopen(url, timeout=_TIMEOUT_SECONDS) as page:  # noqa: S310 - http(s) only, by the args model
            body: bytes = page.read(_MAX_BYTES)
            charset = page.headers.get_content_charset() or "utf-8"
    except urllib.error.HTTPError as error:
        if error.code >= 500:
            raise TransientError(f"{url} answered {error.code}") from None
        raise ValueError(f"{url} answered {error.code} {error.reason}") from None
    except (urllib.error.URLError, TimeoutError, ConnectionError) as error:
        raise TransientError(f"{url} could not be fetched: {error}") from None
    return body.decode(charset, errors="replace")
