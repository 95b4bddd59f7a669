"""The demo's kinds of traces: an agent with tools, a RAG query, a map-reduce summary, a classifier.

Each function lays out one trace's observations in time on a TraceBuilder (traces/demo_traces.py)
and sets the trace's input and output.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from traces import demo_content as content

if TYPE_CHECKING:
    from traces.demo_traces import Row, TraceBuilder


def ms(value: float) -> timedelta:
    return timedelta(milliseconds=int(value))


def support_agent(b: TraceBuilder, trace: Row, start: datetime) -> None:
    rng = b.rng
    question = b.fill(rng.choice(content.SUPPORT_QUESTIONS))
    answer = b.fill(rng.choice(content.SUPPORT_ANSWERS))
    user_message = {"role": "user", "content": question}
    trace["input"] = [user_message]
    model = b.model("support-agent")
    prompt = b.prompt("support-agent-system")
    system = {"role": "system", "content": prompt.text.replace("{{shop}}", "Northwind Store")}
    root = b.observation("AGENT", "support-agent", start, 0, input=[user_message])
    guard = b.observation(
        "GUARDRAIL",
        "input-moderation",
        start + ms(3),
        rng.randrange(30, 120),
        root,
        input={"text": question},
        output={"flagged": False, "categories": []},
    )
    at, messages, failed = guard["end_time"], [system, user_message], False
    for step in range(rng.choices([1, 2, 3, 4, 5, 6], weights=[1, 2, 3, 3, 2, 1])[0]):
        tool = rng.choice(list(content.TOOLS))
        arguments, result = (b.fill_json(part) for part in content.TOOLS[tool])
        call = {
            "id": f"call_{rng.getrandbits(48):012x}",
            "type": "function",
            "function": {"name": tool, "arguments": json.dumps(arguments)},
        }
        decide = b.generation(
            "plan-next-action",
            at,
            root,
            model,
            list(messages),
            {"role": "assistant", "content": None, "tool_calls": [call]},
            input_tokens=700 + 350 * step + rng.randrange(600),
            output_tokens=rng.randrange(18, 90),
            prompt=prompt,
        )
        if decide["level"] == "ERROR":
            failed = True
            break
        tool_fields: Row = {"input": arguments, "output": result}
        duration = rng.randrange(40, 1800)
        if rng.random() < 0.06:
            error = rng.choice(content.TOOL_ERRORS)
            tool_fields = {"input": arguments, "output": None, "level": "ERROR", "status_message": error}
            duration = 30_000 if error.startswith("Timeout") else rng.randrange(50, 900)
            result = {"error": error}
        ran = b.observation("TOOL", tool, decide["end_time"] + ms(2), duration, root, **tool_fields)
        at = ran["end_time"] + ms(2)
        messages += [
            {"role": "assistant", "content": None, "tool_calls": [call]},
            {"role": "tool", "tool_call_id": call["id"], "content": json.dumps(result)},
        ]
    if not failed:
        final = {"role": "assistant", "content": answer}
        reply = b.generation(
            "compose-answer",
            at,
            root,
            model,
            list(messages),
            final,
            input_tokens=1200 + rng.randrange(2500),
            output_tokens=rng.randrange(60, 380),
            prompt=prompt,
        )
        failed = reply["level"] == "ERROR"
        at = reply["end_time"]
    if failed:
        root.update(level="ERROR", status_message="Agent stopped: the model call failed")
    else:
        root["output"] = trace["output"] = {"role": "assistant", "content": answer}
        if rng.random() < 0.25:
            at = judge(b, root, at, question, answer)["end_time"]
    b.close(root, at + ms(4))


def judge(b: TraceBuilder, parent: Row, at: datetime, question: str, answer: str) -> Row:
    verdict = {
        "score": round(b.rng.uniform(0.5, 1), 2),
        "reasoning": "The answer addresses the request.",
    }
    messages = [
        {"role": "system", "content": "Rate how relevant the answer is to the question (0-1)."},
        {"role": "user", "content": f"Question: {question}\nAnswer: {answer}"},
    ]
    return b.generation(
        "answer-relevance",
        at + ms(5),
        parent,
        content.JUDGE_MODEL,
        messages,
        verdict,
        input_tokens=b.rng.randrange(180, 420),
        output_tokens=b.rng.randrange(20, 60),
        kind="EVALUATOR",
        may_fail=False,
    )


def rag_query(b: TraceBuilder, trace: Row, start: datetime) -> None:
    rng = b.rng
    question = rng.choice(content.RAG_QUESTIONS)
    answer = rng.choice(content.RAG_ANSWERS)
    trace["input"] = {"question": question}
    root = b.observation("SPAN", "rag-pipeline", start, 0, input={"question": question})
    at, query = start + ms(2), question
    if rng.random() < 0.6:
        query = question.rstrip("?").lower()
        rewrite = b.generation(
            "rewrite-query",
            at,
            root,
            content.REWRITE_MODEL,
            [{"role": "user", "content": f"Rewrite as a search query: {question}"}],
            {"role": "assistant", "content": query},
            input_tokens=rng.randrange(120, 300),
            output_tokens=rng.randrange(8, 30),
            may_fail=False,
        )
        at = rewrite["end_time"] + ms(2)
    search = b.observation("RETRIEVER", "vector-search", at, 0, root, input={"query": query, "top_k": 5})
    embed = b.generation(
        "embed-query",
        at + ms(1),
        search,
        content.EMBEDDING_MODEL,
        query,
        None,
        input_tokens=rng.randrange(6, 40),
        output_tokens=0,
        kind="EMBEDDING",
        may_fail=False,
    )
    documents = [
        {
            "id": f"doc-{rng.randrange(1000, 9999)}",
            "title": title,
            "score": round(rng.uniform(0.55, 0.93), 3),
        }
        for title in rng.sample(
            [
                "HR handbook",
                "Security runbook",
                "API reference",
                "Enterprise SLA",
                "Brand guidelines",
                "Data residency FAQ",
                "Onboarding guide",
            ],
            5,
        )
    ]
    documents.sort(key=lambda d: -d["score"])
    search["output"] = {"documents": documents}
    at = b.close(search, embed["end_time"] + ms(rng.randrange(20, 300)))
    if rng.random() < 0.5:
        kept = documents[:3]
        at = b.observation(
            "SPAN",
            "rerank",
            at + ms(1),
            rng.randrange(40, 250),
            root,
            input={"documents": len(documents)},
            output={"kept": [d["id"] for d in kept]},
        )["end_time"]
    prompt = b.prompt("rag-answer")
    context = "\n".join(f"[{d['title']}] ..." for d in documents[:3])
    text = prompt.text.replace("{{context}}", context).replace("{{question}}", question)
    reply = b.generation(
        "generate-answer",
        at + ms(2),
        root,
        b.model("rag-query"),
        [{"role": "user", "content": text}],
        {"role": "assistant", "content": answer},
        input_tokens=900 + rng.randrange(2600),
        output_tokens=rng.randrange(80, 420),
        prompt=prompt,
    )
    at = reply["end_time"]
    if reply["level"] == "ERROR":
        root.update(level="ERROR", status_message=reply["status_message"])
    else:
        sources = [d["title"] for d in documents[:2]]
        root["output"] = trace["output"] = {"answer": answer, "sources": sources}
        b.observation("EVENT", "answer-cached", at + ms(1), 0, root, input={"ttl_seconds": 3600})
    b.close(root, at + ms(3))


def summarize_document(b: TraceBuilder, trace: Row, start: datetime) -> None:
    rng = b.rng
    document = rng.choice(content.DOCUMENTS)
    chunks = rng.randrange(4, 13)
    trace["input"] = {"document": document, "pages": chunks * rng.randrange(2, 6)}
    root = b.observation("CHAIN", "summarize-document", start, 0, input=trace["input"])
    split = b.observation(
        "SPAN",
        "split-into-chunks",
        start + ms(2),
        rng.randrange(20, 200),
        root,
        input={"document": document},
        output={"chunks": chunks},
    )
    model, prompt, at = (
        b.model("summarize-document"),
        b.prompt("summarize-document"),
        split["end_time"],
    )
    partials = []
    for number in range(1, chunks + 1):
        summary = f"- Part {number}: key figures, decisions and open questions of section {number}."
        part = b.generation(
            "summarize-chunk",
            at + ms(1),
            root,
            model,
            [
                {
                    "role": "user",
                    "content": prompt.text.replace("{{text}}", f"<chunk {number} of {document}>"),
                }
            ],
            {"role": "assistant", "content": summary},
            input_tokens=1500 + rng.randrange(2500),
            output_tokens=rng.randrange(120, 320),
            prompt=prompt,
        )
        at = part["end_time"]
        partials.append(summary)
    summary = f"Summary of {document}: revenue up 12%, two vendor risks, hiring plan on track."
    combined = b.generation(
        "combine-summaries",
        at + ms(1),
        root,
        model,
        [{"role": "user", "content": "Combine these summaries:\n" + "\n".join(partials)}],
        {"role": "assistant", "content": summary},
        input_tokens=300 + 150 * chunks,
        output_tokens=rng.randrange(150, 400),
    )
    if combined["level"] == "ERROR":
        root.update(level="ERROR", status_message=combined["status_message"])
    else:
        root["output"] = trace["output"] = {"summary": summary}
        if any(o["level"] == "ERROR" for o in b.observations):
            root.update(level="WARNING", status_message="Some chunks failed; the summary may be incomplete")
    b.close(root, combined["end_time"] + ms(2))


def classify_ticket(b: TraceBuilder, trace: Row, start: datetime) -> None:
    rng = b.rng
    ticket = b.fill(rng.choice(content.SUPPORT_QUESTIONS))
    label = rng.choice(content.TICKET_LABELS)
    trace["input"] = {"ticket": ticket}
    root = b.observation("SPAN", "triage-ticket", start, 0, input={"ticket": ticket})
    load = b.observation(
        "SPAN",
        "load-ticket",
        start + ms(1),
        rng.randrange(15, 120),
        root,
        input={"ticket_id": f"T-{b.vars['number']}"},
        output={"channel": rng.choice(["email", "chat"])},
    )
    result = {"label": label, "confidence": round(rng.uniform(0.6, 0.99), 2)}
    messages = [
        {
            "role": "system",
            "content": f"Classify the ticket as one of: {', '.join(content.TICKET_LABELS)}.",
        },
        {"role": "user", "content": ticket},
    ]
    classify = b.generation(
        "classify",
        load["end_time"] + ms(1),
        root,
        b.model("classify-ticket"),
        messages,
        {"role": "assistant", "content": json.dumps(result)},
        input_tokens=rng.randrange(150, 500),
        output_tokens=rng.randrange(8, 30),
    )
    at = classify["end_time"]
    if classify["level"] == "ERROR":
        root.update(level="ERROR", status_message=classify["status_message"])
    else:
        root["output"] = trace["output"] = result
        b.observation("EVENT", "ticket-routed", at + ms(1), 0, root, input={"queue": label})
    b.close(root, at + ms(2))


SCENARIOS: dict[str, Callable[[TraceBuilder, Row, datetime], None]] = {
    "support-agent": support_agent,
    "rag-query": rag_query,
    "summarize-document": summarize_document,
    "classify-ticket": classify_ticket,
}
