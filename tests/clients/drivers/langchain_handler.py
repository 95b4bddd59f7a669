"""LangChain (langchain-core) through the Langfuse 5.x CallbackHandler, with a fake chat model.

Runs prompt | model | parser once successfully (prompt linked through the template's metadata), then a
chain whose second step raises, and reports both trace ids.
"""

from __future__ import annotations

from driver_io import load_scenario, prompt_source, report
from langchain_core.language_models.fake_chat_models import FakeListChatModel
from langchain_core.output_parsers import StrOutputParser
from langchain_core.prompts import ChatPromptTemplate
from langchain_core.runnables import RunnableLambda
from langfuse import Langfuse
from langfuse.langchain import CallbackHandler
from langfuse.model import TextPromptClient

FAILURE_MESSAGE = "tool broke"


def fail(_value: object) -> str:
    raise ValueError(FAILURE_MESSAGE)


def main() -> None:
    s = load_scenario()
    gen_s = s["generation"]
    langfuse = Langfuse(release=s["release"], environment=s["environment"])
    auth_ok = langfuse.auth_check()
    handler = CallbackHandler()
    prompt = ChatPromptTemplate.from_messages(
        [("system", gen_s["input"][0]["content"]), ("user", "{question}")]
    )
    prompt.metadata = {"langfuse_prompt": TextPromptClient(prompt_source(gen_s["prompt"]))}
    llm = FakeListChatModel(responses=[gen_s["output"]["content"]])
    chain = prompt | llm | StrOutputParser()
    config = {
        "callbacks": [handler],
        "run_name": s["root"]["name"],
        "metadata": {
            "langfuse_user_id": s["user_id"],
            "langfuse_session_id": s["session_id"],
            "langfuse_tags": s["tags"],
            "langfuse_trace_name": s["trace_name"],
            **s["trace_metadata"],
        },
    }
    answer = chain.invoke({"question": gen_s["input"][1]["content"]}, config=config)
    ok_trace = handler.last_trace_id

    error = None
    try:
        (prompt | RunnableLambda(fail)).invoke(
            {"question": "?"}, config={**config, "run_name": "failing-chain"}
        )
    except ValueError as exc:
        error = str(exc)
    failed_trace = handler.last_trace_id
    langfuse.flush()
    langfuse.shutdown()
    report(
        {
            "auth_check": auth_ok,
            "answer": answer,
            "error": error,
            "trace_id": ok_trace,
            "failed_trace_id": failed_trace,
        }
    )


if __name__ == "__main__":
    main()
