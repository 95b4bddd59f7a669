"""OTLP spans -> trace and observation records, checked against what each real client sent."""

from __future__ import annotations

from datetime import UTC, datetime

from tests.traces import otlp_captures as wire


def observations(batch):
    return {o.id: o.fields for o in batch.observations}


def traces(batch):
    return {t.id: t.fields for t in batch.traces}


def by_name(batch):
    return {o.fields["name"]: o.fields for o in batch.observations}


# -- Python SDK 5 (and the same script on 4, 3 and JS 5) ------------------------------------------


def test_python_v5_nesting_types_and_timing():
    batch = wire.batch(wire.PYTHON_V5)
    obs = observations(batch)

    assert {o.trace_id for o in batch.observations} == {
        "1d8c06ca3d167bf00c76e5cb2e8ad5bc",
        "fa9b470a2b4c73ac4056aa7723c3deb8",
        "f432baf57b979e1e72d2a3fa621d10cd",
    }
    assert obs["57f0106fcf69c750"]["parent_observation_id"] == "58131cb5354402ed"  # llm-call in child-span
    assert obs["17436603b7fd0da9"]["parent_observation_id"] == "58131cb5354402ed"  # my-event in child-span
    assert obs["58131cb5354402ed"]["parent_observation_id"] == "fb89d6f120b43898"  # child-span in root-span
    assert "parent_observation_id" not in obs["fb89d6f120b43898"]
    assert {o["name"]: o["type"] for o in obs.values()} == {
        "llm-call": "GENERATION",
        "my-event": "EVENT",
        "child-span": "SPAN",
        "root-span": "SPAN",
        "inner": "SPAN",
        "decorated-outer": "SPAN",
        "fake_llm": "GENERATION",
    }
    llm = obs["57f0106fcf69c750"]
    assert llm["start_time"] == datetime(2026, 11, 27, 21, 28, 55, 332779, tzinfo=UTC)
    assert llm["end_time"] == datetime(2026, 11, 27, 21, 28, 55, 343472, tzinfo=UTC)
    assert obs["17436603b7fd0da9"]["start_time"] == obs["17436603b7fd0da9"]["end_time"]


def test_python_v5_generation_fields():
    llm = by_name(wire.batch(wire.PYTHON_V5))["llm-call"]

    assert llm["provided_model_name"] == "gpt-4o-mini"
    assert llm["model_parameters"] == {"temperature": 0.5, "max_tokens": 100}
    assert llm["provided_usage_details"] == {
        "input": 12,
        "output": 5,
        "total": 17,
        "cache_read_input_tokens": 2,
    }
    assert llm["provided_cost_details"] == {"input": 0.0012, "output": 0.0005, "total": 0.0017}
    assert (llm["prompt_name"], llm["prompt_version"]) == ("greeting", 1)
    assert llm["input"] == [{"role": "system", "content": "be nice"}, {"role": "user", "content": "Hello"}]
    assert llm["output"] == {"role": "assistant", "content": "Hi there!"}
    assert llm["version"] == "app-v1"
    assert llm["environment"] == "staging"
    assert llm["level"] == "DEFAULT"
    assert llm["metadata"]["gen"] == "meta"
    assert llm["metadata"]["scope"] == {
        "name": "langfuse-sdk",
        "version": "5.0.4",
        "attributes": {"public_key": "pk-lf-test"},
    }
    assert llm["metadata"]["resourceAttributes"]["service.name"] == "unknown_service:python"
    assert "attributes" not in llm["metadata"]  # a Langfuse SDK's attributes are all mapped


def test_python_v5_span_io_level_and_status():
    named = by_name(wire.batch(wire.PYTHON_V5))

    child = named["child-span"]
    assert (child["input"], child["output"]) == ("child in", "child out")  # raw strings stay strings
    assert (child["level"], child["status_message"]) == ("WARNING", "slow")
    assert named["my-event"]["input"] == {"e": 1}
    assert named["my-event"]["output"] == "evt-out"
    assert named["my-event"]["metadata"]["k"] == "v"
    assert named["root-span"]["metadata"]["rootmeta"] == 1
    assert named["inner"]["input"] == {"args": [5], "kwargs": {}}
    assert named["inner"]["output"] == 10


def test_python_v5_trace_fields():
    found = traces(wire.batch(wire.PYTHON_V5))

    main = found["1d8c06ca3d167bf00c76e5cb2e8ad5bc"]
    assert main == {
        "timestamp": datetime(2026, 11, 27, 21, 28, 55, 331792, tzinfo=UTC),  # root-span's start
        "environment": "staging",
        "name": "my-trace",
        "user_id": "u1",
        "session_id": "s1",
        "release": "rel-1.2.3",
        "version": "app-v1",
        "tags": ["t1", "t2"],
        "metadata": {"tenant": "acme"},
        "input": {"q": "hi"},  # the root observation's, as Langfuse shows it
        "output": {"answer": "done"},
    }
    decorated = found["fa9b470a2b4c73ac4056aa7723c3deb8"]
    assert decorated["name"] == "decorated-outer"  # no trace name: the root span's name
    assert (decorated["user_id"], decorated["session_id"], decorated["tags"]) == ("u2", "s2", ["deco"])
    assert found["f432baf57b979e1e72d2a3fa621d10cd"]["name"] == "fake_llm"


def test_python_v5_decorated_generation_links_its_prompt():
    fake = by_name(wire.batch(wire.PYTHON_V5))["fake_llm"]

    assert fake["type"] == "GENERATION"
    assert (fake["prompt_name"], fake["prompt_version"]) == ("chat-greeting", 1)
    assert fake["provided_model_name"] == "gpt-4o"
    assert fake["provided_usage_details"] == {"input": 3, "output": 4}
    assert "provided_cost_details" not in fake


def test_python_v4_raw_metadata_values_map_like_v5_json_ones():
    batch = wire.batch(wire.PYTHON_V4)
    named = by_name(batch)

    assert traces(batch)["8bf1eee10eb240d2cb33eced62a0a503"]["metadata"] == {"tenant": "acme"}
    assert named["llm-call"]["metadata"]["gen"] == "meta"
    assert named["root-span"]["metadata"]["rootmeta"] == 1
    assert named["llm-call"]["provided_usage_details"]["cache_read_input_tokens"] == 2
    assert named["my-event"]["type"] == "EVENT"


def test_python_v3_update_trace_sets_trace_io_and_public():
    batch = wire.batch(wire.PYTHON_V3)
    found = traces(batch)

    main = found["82454d673e903d05f3fb1ecaa41d3503"]
    assert (main["input"], main["output"]) == ({"trace": "in"}, {"trace": "out"})
    assert main["public"] is True
    assert main["release"] == "rel-1.2.3"  # v3 sends release only on the resource
    assert (main["name"], main["user_id"], main["version"]) == ("my-trace", "u1", "app-v1")
    assert found["9f14b078f5d9cf10b1ed2da9ef551ad1"]["metadata"] == {"m": 1}
    root = by_name(batch)["root-span"]
    assert "output" not in root  # the trace output is not the root's


def test_js_v5_json_body_maps_like_python():
    batch = wire.batch(wire.JS_V5)
    named = by_name(batch)
    found = traces(batch)

    llm = named["llm-call"]
    assert llm["model_parameters"] == {"temperature": 0.5, "maxTokens": 100}
    assert (llm["prompt_name"], llm["prompt_version"]) == ("greeting", 1)
    assert llm["provided_usage_details"] == {"input": 12, "output": 5, "total": 17}
    assert llm["provided_cost_details"] == {"total": 0.0017}
    assert llm["parent_observation_id"] == "050b203a380ebeb0"
    assert named["my-event"]["type"] == "EVENT"
    assert found["123c9d59904047a87d1d8dfe6579d310"]["metadata"] == {"tenant": "acme"}
    assert found["123c9d59904047a87d1d8dfe6579d310"]["tags"] == ["t1", "t2"]
    observed = found["7e45b939900c71056b62470ad788a259"]
    assert (observed["name"], observed["input"], observed["output"]) == ("observed-fn", 5, 10)
    assert observed["environment"] == "staging"


# -- LangChain, media, retries ---------------------------------------------------------------------


def test_langchain_chain_with_a_generation_without_model():
    batch = wire.batch(wire.LANGCHAIN)
    named = by_name(batch)
    found = traces(batch)

    assert {name: o["type"] for name, o in named.items()} == {
        "ChatPromptTemplate": "CHAIN",
        "FakeListChatModel": "GENERATION",
        "StrOutputParser": "CHAIN",
        "my-chain": "CHAIN",
    }
    chain = found["3d3d9684ae194f1faafcc3a1792fd8b4"]
    assert (chain["name"], chain["user_id"], chain["session_id"]) == ("my-chain", "u-lc", "s-lc")
    assert (chain["tags"], chain["metadata"], chain["environment"]) == (["lc"], {"other": 1}, "default")
    generation = next(
        o.fields
        for o in batch.observations
        if o.trace_id == "3d3d9684ae194f1faafcc3a1792fd8b4" and o.fields["type"] == "GENERATION"
    )
    assert "provided_model_name" not in generation
    assert generation["metadata"]["ls_provider"] == "fakelistchatmodel"
    assert generation["metadata"]["tags"] == ["seq:step:2"]
    second = found["79d15ab78556c91669c1a1804deb56ce"]
    assert (second["name"], second["user_id"]) == ("FakeListChatModel", "u-lc2")


def test_media_reference_string_stays_in_the_input():
    (generation,) = wire.batch(wire.MEDIA).observations

    content = generation.fields["input"][0]["content"]
    assert content[1]["image_url"]["url"] == (
        "@@@langfuseMedia:type=image/png|id=cf3jhWopigUsbttRVWONhC|source=base64_data_uri@@@"
    )
    assert generation.fields["provided_model_name"] == "gpt-4o"


def test_a_bare_span_still_makes_a_trace():
    batch = wire.batch(wire.RETRY)

    assert traces(batch) == {
        "7211d06353658a626c786f929cebbede": {
            "timestamp": datetime(2026, 11, 27, 21, 29, 19, 307515, tzinfo=UTC),
            "environment": "default",
            "name": "retry-span",
        }
    }
    assert observations(batch)["f5e9348f02b67214"]["type"] == "SPAN"


# -- LiteLLM ---------------------------------------------------------------------------------------


def test_litellm_langfuse_callback_generation():
    batch = wire.batch(wire.LITELLM_SDK_FIRST)
    (gen,) = batch.observations

    assert gen.fields["name"] == "litellm-gen"
    assert gen.fields["input"] == {
        "messages": [{"role": "system", "content": "be nice"}, {"role": "user", "content": "Hi there"}]
    }
    assert gen.fields["output"]["content"] == "Hello!"
    assert gen.fields["model_parameters"] == {"temperature": 0.3, "max_tokens": 50, "extra_body": "{}"}
    assert gen.fields["provided_usage_details"] == {
        "input": 10,
        "output": 20,
        "total": 30,
        "cache_creation_input_tokens": 0,
        "cache_read_input_tokens": 0,
    }
    assert gen.fields["provided_cost_details"] == {"total": 1.35e-05}
    assert gen.fields["completion_start_time"] == datetime(2026, 11, 27, 21, 32, 41, 807148, tzinfo=UTC)
    assert gen.fields["metadata"]["cache_hit"] is False
    assert gen.fields["metadata"]["hidden_params"]["litellm_model_name"] == "gpt-4o-mini"
    (trace,) = batch.traces
    assert trace.id == "e8bc163c82eee18733288c7d4ac636db"
    assert (trace.fields["name"], trace.fields["user_id"], trace.fields["session_id"]) == (
        "litellm-trace",
        "u1",
        "s1",
    )
    assert (trace.fields["tags"], trace.fields["metadata"]) == (["t"], {"tenant": "acme"})


def test_litellm_second_root_of_the_same_trace_arrives_in_its_own_request():
    batch = wire.batch(wire.LITELLM_SDK_SECOND)
    found = traces(batch)

    assert set(found) == {"e8bc163c82eee18733288c7d4ac636db", "3f867ea1b7294339877756399d0ab7eb"}
    assert found["e8bc163c82eee18733288c7d4ac636db"]["timestamp"] == datetime(
        2026, 11, 27, 21, 32, 41, 823784, tzinfo=UTC
    )
    streamed = observations(batch)["5457370f365b0d2e"]
    assert "parent_observation_id" not in streamed
    assert streamed["model_parameters"] == {"stream": True, "extra_body": "{}"}


def test_litellm_failed_call_is_an_error_with_its_message():
    failed = observations(wire.batch(wire.LITELLM_SDK_SECOND))["39f9949314355e9c"]
    message = (
        "litellm.InternalServerError: InternalServerError: OpenAIException - litellm.MockException: boom"
    )

    assert (failed["level"], failed["status_message"], failed["output"]) == ("ERROR", message, message)
    assert failed["type"] == "GENERATION"
    assert "provided_usage_details" not in failed


def test_litellm_langfuse_otel_openinference_attributes():
    batch = wire.batch(wire.LITELLM_OTEL)
    obs = observations(batch)
    found = traces(batch)

    gen = obs["bd300734311ed676"]
    assert gen["type"] == "GENERATION"
    assert gen["provided_model_name"] == "gpt-4o-mini"
    assert gen["model_parameters"] == {"temperature": 0.3, "max_tokens": 50}
    assert gen["provided_usage_details"] == {"input": 10, "output": 20, "total": 30}
    assert gen["provided_cost_details"] == {"total": 1.35e-05}
    assert gen["completion_start_time"] == datetime(2026, 11, 27, 21, 31, 54, 554074, tzinfo=UTC)
    assert gen["environment"] == "production"  # resource deployment.environment
    assert gen["metadata"]["scope"] == {"name": "litellm"}
    assert gen["metadata"]["attributes"]["llm.provider"] == "openai"
    raw_response = obs["ebc1b52dfaee62b0"]
    assert (raw_response["type"], raw_response["parent_observation_id"]) == ("SPAN", "bd300734311ed676")
    trace = found["78314d000755e9b711ca15f16806dafc"]
    assert trace["tags"] == ["t"]  # a JSON-array string
    assert trace["metadata"] == {"tenant": "acme"}  # one JSON-object string
    assert trace["input"] == [
        {"role": "system", "content": "be nice"},
        {"role": "user", "content": "Hi there"},
    ]
    assert trace["output"] == {"role": "assistant", "content": "Hello!"}
    assert (trace["name"], trace["user_id"], trace["session_id"]) == ("litellm-trace", "u1", "s1")
    assert trace["environment"] == "production"


def test_litellm_langfuse_otel_failure_from_span_status():
    failed = observations(wire.batch(wire.LITELLM_OTEL))["9f0a565cb04625fa"]

    assert failed["level"] == "ERROR"
    assert failed["status_message"] == (
        "litellm.InternalServerError: InternalServerError: OpenAIException - litellm.MockException: boom"
    )
    assert failed["provided_cost_details"] == {"total": 0.0}


def test_litellm_generic_otel_gen_ai_attributes():
    batch = wire.batch(wire.LITELLM_GENERIC)
    obs = observations(batch)

    gen = obs["a6fed461e3544a67"]
    assert gen["type"] == "GENERATION"
    assert gen["provided_model_name"] == "gpt-4o-mini"
    assert gen["model_parameters"] == {"max_tokens": 50, "temperature": 0.3}
    assert gen["provided_usage_details"] == {"input": 10, "output": 20, "total": 30}
    assert gen["provided_cost_details"] == {"input": 1.5e-06, "output": 1.2e-05, "total": 1.35e-05}
    assert gen["input"] == [
        {"role": "system", "parts": [{"type": "text", "content": "be nice"}]},
        {"role": "user", "parts": [{"type": "text", "content": "Hi there"}]},
    ]
    assert gen["output"][0]["parts"][0]["content"] == "Hello!"
    assert gen["metadata"]["attributes"]["gen_ai.system"] == "openai"
    failed = obs["56b3fde409823ddd"]
    assert (failed["level"], failed["status_message"]) == (
        "ERROR",
        "litellm.InternalServerError: InternalServerError: OpenAIException - litellm.MockException: boom",
    )
    trace = traces(batch)["89d6f665002a0ca572be598c07a44453"]
    assert (trace["name"], trace["environment"]) == ("litellm-gen", "production")
    assert "user_id" not in trace
