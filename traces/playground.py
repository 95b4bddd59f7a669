"""The playground: a generation's call as editable rows, run again, traced, and copied as code.

A call is `{"model": ..., "messages": [...], **parameters}` in OpenAI Chat Completions form.
Messages keep their keys other than role and content (tool_calls, name, tool_call_id) in `extra`,
and content that is not a string (content parts) as JSON, so an unedited replay sends exactly
what the generation received.
"""

from __future__ import annotations

import json
import pprint
import re
import shlex
import uuid
from dataclasses import dataclass, field
from typing import Any

from django.utils import timezone

from traces.ingest.records import Batch, ObservationRecord, TraceRecord
from traces.ingest.writer import store_batch
from traces.llm_connections import Completion, ConnectionFailed, chat_completion
from traces.models import LlmConnection, Observation
from traces.usage import normalize_usage

ROLES = ["system", "user", "assistant", "tool", "developer"]
ROLE_NAME = re.compile(r"[a-z_]{1,40}")  # also "function" and other roles a generation recorded
DEFAULT_BASE_URL = "https://api.openai.com/v1"


@dataclass
class MessageRow:
    role: str = "user"
    content: str = ""
    is_json: bool = False
    extra: str = ""  # JSON object of the message's other keys, or ""

    def message(self) -> dict[str, Any]:
        content: Any = self.content
        if self.is_json:
            try:
                content = json.loads(self.content)
            except ValueError:
                content = self.content
        extra = _json_object(self.extra)
        return {"role": self.role, "content": content, **extra}


@dataclass
class ParamRow:
    name: str = ""
    value: str = ""

    def parsed(self) -> Any:
        try:
            return json.loads(self.value)
        except ValueError:
            return self.value


@dataclass
class Call:
    model: str = ""
    messages: list[MessageRow] = field(default_factory=list)
    params: list[ParamRow] = field(default_factory=list)

    def payload(self) -> dict[str, Any]:
        body: dict[str, Any] = {"model": self.model, "messages": [row.message() for row in self.messages]}
        for row in self.params:
            if row.name.strip() and row.name.strip() not in body:
                body[row.name.strip()] = row.parsed()
        return body


def _json_object(text: str) -> dict[str, Any]:
    try:
        value = json.loads(text) if text else {}
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _message_row(message: Any) -> MessageRow:
    if not isinstance(message, dict):
        return MessageRow(content=message if isinstance(message, str) else json.dumps(message))
    content = message.get("content")
    extra = {k: v for k, v in message.items() if k not in ("role", "content")}
    row = MessageRow(role=str(message.get("role") or "user"), extra=json.dumps(extra) if extra else "")
    if isinstance(content, str):
        row.content = content
    elif content is None and not extra:
        row.content = ""
    else:
        row.content, row.is_json = json.dumps(content, ensure_ascii=False, indent=2), True
    return row


def messages_of(value: Any) -> list[MessageRow]:
    """The chat messages of an observation's input: a list, {"messages": [...]}, or one string."""
    if isinstance(value, dict) and isinstance(value.get("messages"), list):
        value = value["messages"]
    if isinstance(value, list) and value:
        return [_message_row(message) for message in value]
    if isinstance(value, str):
        return [MessageRow(role="user", content=value)]
    if value is None:
        return [MessageRow()]
    return [MessageRow(role="user", content=json.dumps(value, ensure_ascii=False))]


def _param_text(value: Any) -> str:
    # Strings stay as typed, so "0.7" as stored by some SDKs is sent as the number 0.7.
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def call_of(observation: Observation | None, default_model: str = "") -> Call:
    if observation is None:
        return Call(model=default_model, messages=[MessageRow(role="user")])
    params = dict(observation.model_parameters) if isinstance(observation.model_parameters, dict) else {}
    if isinstance(observation.input, dict) and isinstance(observation.input.get("messages"), list):
        # {"messages": [...], "tools": [...], ...}: the other request keys are parameters too
        for name, value in observation.input.items():
            if name not in ("messages", "model"):
                params.setdefault(name, value)
    return Call(
        model=observation.provided_model_name or default_model,
        messages=messages_of(observation.input),
        params=[ParamRow(str(name), _param_text(value)) for name, value in params.items()],
    )


def call_from_post(data) -> Call:
    """The edited call from the playground form (parallel lists of message and parameter fields)."""
    roles, contents = data.getlist("role"), data.getlist("content")
    is_json, extras = data.getlist("content_json"), data.getlist("extra")
    messages = []
    for index, role in enumerate(roles):
        messages.append(
            MessageRow(
                role=role if ROLE_NAME.fullmatch(role) else "user",
                content=contents[index] if index < len(contents) else "",
                is_json=(is_json[index] if index < len(is_json) else "") == "1",
                extra=extras[index] if index < len(extras) else "",
            )
        )
    return Call(model=data.get("model", "").strip(), messages=messages, params=params_from_post(data))


def params_from_post(data) -> list[ParamRow]:
    """The parameter rows of a playground form; rows with a blank name are dropped."""
    names, values = data.getlist("param_name"), data.getlist("param_value")
    return [
        ParamRow(name.strip(), values[index] if index < len(values) else "")
        for index, name in enumerate(names)
        if name.strip()
    ]


# --- A prompt version as a call -----------------------------------------------------------------

# The keys of a prompt's config that are Chat Completions parameters; the rest (e.g. an app's own
# settings kept beside the prompt) are not sent.
REQUEST_PARAMETERS = (
    "temperature",
    "max_tokens",
    "max_completion_tokens",
    "top_p",
    "frequency_penalty",
    "presence_penalty",
    "stop",
    "seed",
    "n",
    "response_format",
    "tools",
    "tool_choice",
    "parallel_tool_calls",
    "logit_bias",
    "logprobs",
    "top_logprobs",
    "reasoning_effort",
    "user",
)


def config_params(config: Any) -> tuple[list[ParamRow], list[str]]:
    """The request parameters a prompt's config sets, and the names of the other config keys."""
    config = config if isinstance(config, dict) else {}
    rows = [ParamRow(name, _param_text(config[name])) for name in REQUEST_PARAMETERS if name in config]
    ignored = [name for name in config if name not in REQUEST_PARAMETERS and name != "model"]
    return rows, ignored


def prompt_messages(compiled: Any) -> list[MessageRow]:
    """A compiled text prompt becomes one user message; a chat prompt's messages keep role and content."""
    if isinstance(compiled, str):
        return [MessageRow(role="user", content=compiled)]
    rows = []
    for message in compiled:
        if isinstance(message, dict) and isinstance(message.get("content"), str):
            extra = {k: v for k, v in message.items() if k not in ("role", "content", "type")}
            rows.append(
                MessageRow(
                    role=str(message.get("role") or "user"),
                    content=message["content"],
                    extra=json.dumps(extra) if extra else "",
                )
            )
        else:
            rows.append(_message_row(message))
    return rows


def placeholder_messages(name: str, text: str) -> list[dict[str, Any]]:
    """The messages typed for a chat prompt's placeholder: a JSON list of {"role", "content"} objects."""
    if not text.strip():
        return []
    try:
        value = json.loads(text)
    except ValueError as exc:
        raise ValueError(f"Placeholder {name}: not valid JSON ({exc})") from None
    if isinstance(value, dict):
        value = [value]
    if not isinstance(value, list) or not all(
        isinstance(m, dict) and isinstance(m.get("role"), str) and "content" in m for m in value
    ):
        raise ValueError(
            f'Placeholder {name}: give a JSON list of messages, e.g. [{{"role": "user", "content": "Hi"}}]'
        )
    return value


def output_text(value: Any) -> str:
    """An output for reading: the assistant text when there is one, else pretty JSON."""
    if isinstance(value, dict) and isinstance(value.get("content"), str) and not value.get("tool_calls"):
        return value["content"]
    if isinstance(value, list) and len(value) == 1 and isinstance(value[0], dict):
        return output_text(value[0])
    if isinstance(value, str) or value is None:
        return value or ""
    return json.dumps(value, ensure_ascii=False, indent=2)


# --- Copy as code -------------------------------------------------------------------------------


def _python_value(value: Any) -> str:
    if isinstance(value, list) and value:
        items = "".join(
            f"        {_indent(_indent(pprint.pformat(item, width=90, sort_dicts=False)))},\n"
            for item in value
        )
        return f"[\n{items}    ]"
    return _indent(pprint.pformat(value, width=90, sort_dicts=False))


def as_python(payload: dict[str, Any], base_url: str = DEFAULT_BASE_URL) -> str:
    arguments = "\n".join(f"    {name}={_python_value(value)}," for name, value in payload.items())
    return (
        "import os\n\nfrom openai import OpenAI\n\n"
        f'client = OpenAI(base_url={base_url!r}, api_key=os.environ["OPENAI_API_KEY"])\n'
        f"response = client.chat.completions.create(\n{arguments}\n)\n"
        "print(response.choices[0].message.content)\n"
    )


def _indent(text: str) -> str:
    return text.replace("\n", "\n    ")


def as_curl(payload: dict[str, Any], base_url: str = DEFAULT_BASE_URL) -> str:
    body = json.dumps(payload, ensure_ascii=False, indent=2)
    return (
        f"curl {shlex.quote(base_url.rstrip('/') + '/chat/completions')} \\\n"
        '  -H "Content-Type: application/json" \\\n'
        '  -H "Authorization: Bearer $OPENAI_API_KEY" \\\n'
        f"  -d {shlex.quote(body)}\n"
    )


# --- Running and tracing ------------------------------------------------------------------------


@dataclass
class RunResult:
    error: str = ""
    completion: Completion | None = None
    trace_id: str = ""
    usage: dict[str, Any] = field(default_factory=dict)
    bad_input: bool = False  # the error is the form's (answer 422), not the endpoint's

    @property
    def status(self) -> int:
        return 422 if self.bad_input else 200


NO_CONNECTION = "No LLM connection: an admin adds one under Settings → LLM connections"


def pick_connection(project, connection_id: str | None) -> LlmConnection | None:
    """The project's connection with that id, else its first one (None when it has none)."""
    connections = LlmConnection.objects.for_project(project)
    return connections.filter(pk=connection_id).first() if connection_id else connections.first()


def run(
    project_id: str,
    payload: dict[str, Any],
    connection: LlmConnection | None,
    **link: Any,
) -> RunResult:
    """Call the connection with the payload and trace the call (see record_replay for `link`)."""
    if connection is None:
        return RunResult(error=NO_CONNECTION)
    if not payload.get("model"):
        return RunResult(error="Name a model to run", bad_input=True)
    started_at = timezone.now()
    try:
        completion = chat_completion(connection, payload)
    except ConnectionFailed as exc:
        return RunResult(error=str(exc))
    trace_id = record_replay(project_id, payload, completion, started_at=started_at, **link)
    return RunResult(completion=completion, trace_id=trace_id, usage=normalize_usage(usage=completion.usage))


# --- Tracing the run ----------------------------------------------------------------------------


def record_replay(
    project_id: str,
    payload: dict[str, Any],
    completion: Completion,
    *,
    started_at,
    replay_of: str = "",
    replay_of_trace: str = "",
    prompt: tuple[str, int] | None = None,
    variables: dict[str, str] | None = None,
) -> str:
    """Store the run as a trace named "playground" with one generation; return the trace id.

    A replay notes the generation it replays; a prompt run links its generation to the prompt version
    (so it counts among the version's generations and metrics) and notes the variables it filled in.
    """
    trace_id, observation_id = uuid.uuid4().hex, uuid.uuid4().hex[:16]
    metadata: dict[str, Any] = {"replayOf": replay_of, "replayOfTrace": replay_of_trace} if replay_of else {}
    if prompt:
        metadata.update({"prompt": prompt[0], "promptVersion": prompt[1], "variables": variables or {}})
    params = {k: v for k, v in payload.items() if k not in ("model", "messages")}
    output = {"role": "assistant", "content": completion.content}
    trace = TraceRecord(
        trace_id,
        {
            "name": "playground",
            "timestamp": started_at,
            "metadata": metadata,
            "input": payload["messages"],
            "output": output,
        },
    )
    generation = ObservationRecord(
        observation_id,
        trace_id,
        {
            "type": "GENERATION",
            "name": "playground",
            "start_time": started_at,
            "end_time": timezone.now(),
            "metadata": metadata,
            "input": payload["messages"],
            "output": output,
            "provided_model_name": completion.model or payload.get("model") or None,
            "model_parameters": params or None,
        },
    )
    if prompt:
        generation.fields.update({"prompt_name": prompt[0], "prompt_version": prompt[1]})
    usage = normalize_usage(usage=completion.usage)
    if usage:
        generation.fields["provided_usage_details"] = usage
    store_batch(project_id, Batch(traces=[trace], observations=[generation]))
    return trace_id
