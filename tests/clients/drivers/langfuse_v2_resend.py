"""Python SDK 2.x when the server's 207 lists an error: the SDK re-sends the whole batch (its backoff retries).

One BOOLEAN score with the value 5 is refused by the server; its neighbours in the same batch are valid. The
driver counts the SDK's own "making request" debug lines for /api/public/ingestion, so the test can see that the
batch really went out more than once.
"""

from __future__ import annotations

import logging

from driver_io import load_scenario, report
from langfuse import Langfuse


class CountIngestionPosts(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.posts = 0

    def emit(self, record: logging.LogRecord) -> None:
        if record.msg == "making request: %s to %s" and str(record.args[-1]).endswith(
            "/api/public/ingestion"
        ):
            self.posts += 1


def main() -> None:
    s = load_scenario()
    # One batch: everything is queued within a few milliseconds, well inside one flush interval.
    langfuse = Langfuse(flush_at=100, flush_interval=1, max_retries=3)
    # After the client is built: its constructor sets the level of the "langfuse" logger.
    counter = CountIngestionPosts()
    logger = logging.getLogger("langfuse")
    logger.setLevel(logging.DEBUG)
    logger.addHandler(counter)
    trace = langfuse.trace(id=s["trace_id"], name=s["trace_name"], user_id=s["user_id"])
    generation = trace.generation(
        id=s["generation_id"], name="answer", model="gpt-4o-mini", input="hi", output="hello"
    )
    generation.end(usage_details={"input": 3, "output": 2})
    trace.score(id=s["good_score_id"], name="helpful", value=0.75)
    trace.score(id=s["bad_score_id"], name="thumbs", value=5, data_type="BOOLEAN")
    langfuse.flush()
    langfuse.shutdown()
    report({"ingestion_posts": counter.posts})


if __name__ == "__main__":
    main()
