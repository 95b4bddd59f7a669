"""Words and shapes for the demo data (traces/demo.py): users, questions, prompts, tools.

Plain constants, so the generator stays about logic. Model names match the default price
table (traces/model_prices.json) so demo generations get costs.
"""

from __future__ import annotations

USERS = [
    "maria.garcia@northwind.example",
    "li.wei@northwind.example",
    "amara.okafor@contoso.example",
    "jonas.berg@contoso.example",
    "sofia.rossi@fabrikam.example",
    "kenji.tanaka@fabrikam.example",
    "priya.nair@initech.example",
    "lucas.martin@initech.example",
    "fatima.zahra@globex.example",
    "noah.schmidt@globex.example",
    "emma.johnson@umbrella.example",
    "diego.fernandez@umbrella.example",
    "olivia.brown@hooli.example",
    "ahmed.hassan@hooli.example",
    "chloe.dubois@piedpiper.example",
    "mateo.silva@piedpiper.example",
    "hana.kim@stark.example",
    "ivan.petrov@stark.example",
    "zoe.williams@wayne.example",
    "arjun.mehta@wayne.example",
    "user_10482",
    "user_10517",
    "user_20991",
    "user_31337",
    "anonymous-7f3a",
]

# Scenario -> the team that owns it (metadata.team); a few traces get another team.
TEAMS = {
    "support-agent": "support",
    "rag-query": "search",
    "summarize-document": "content",
    "classify-ticket": "platform",
}
OTHER_TEAMS = ["growth", "data-science", "platform", "support"]

SCENARIO_WEIGHTS = {"support-agent": 40, "rag-query": 30, "summarize-document": 15, "classify-ticket": 15}

# Scenario -> (model name, weight) for its main generations.
SCENARIO_MODELS = {
    "support-agent": [("gpt-4o", 40), ("claude-3-5-sonnet-20241022", 35), ("gpt-4.1-mini", 25)],
    "rag-query": [("gpt-4o-mini", 50), ("claude-3-5-haiku-20241022", 25), ("gemini-2.0-flash", 25)],
    "summarize-document": [("claude-3-5-sonnet-20241022", 40), ("gpt-4o", 30), ("gemini-2.0-flash", 30)],
    "classify-ticket": [("gpt-4o-mini", 70), ("claude-3-5-haiku-20241022", 30)],
}
REWRITE_MODEL = "gpt-4o-mini"
JUDGE_MODEL = "gpt-4o-mini"
EMBEDDING_MODEL = "text-embedding-3-small"

# Milliseconds per output token and to the first token, roughly what these models do.
MS_PER_TOKEN = {
    "gpt-4o": 14,
    "gpt-4o-mini": 7,
    "gpt-4.1-mini": 8,
    "claude-3-5-sonnet-20241022": 16,
    "claude-3-5-haiku-20241022": 9,
    "gemini-2.0-flash": 5,
}
FIRST_TOKEN_MS = {"gpt-4o": 450, "claude-3-5-sonnet-20241022": 700, "gemini-2.0-flash": 250}

# Usage keys for cache reads, as each provider's SDK integration reports them.
CACHED_KEY = {"gpt": "input_cached_tokens", "claude": "cache_read_input_tokens"}

PRODUCTS = [
    "Aurora X2 headphones",
    "Nimbus standing desk",
    "Pulse fitness band",
    "Vega 4K monitor",
    "Orbit robot vacuum",
    "Lumen desk lamp",
    "Atlas hiking backpack",
    "Echo smart speaker",
]

SUPPORT_QUESTIONS = [
    "Where is my order {order}? It was supposed to arrive yesterday.",
    "I want to return the {product}, it stopped working after a week.",
    "Can I change the delivery address for order {order}?",
    "Why was I charged twice for order {order}?",
    "Does the {product} come with an international warranty?",
    "My discount code SPRING24 is not accepted at checkout.",
    "How do I reset the {product} to factory settings?",
    "Can you cancel order {order} before it ships?",
]
SUPPORT_ANSWERS = [
    "Your order {order} is with the carrier and should arrive within 2 business days. "
    "Here is the tracking link: https://track.example/{order}.",
    "I'm sorry the {product} stopped working. I've opened return request RMA-{number}; "
    "you'll get a prepaid label by email within the hour.",
    "Done: the delivery address for order {order} is updated. The estimated delivery date is unchanged.",
    "You were charged once; the second line is a pre-authorisation that disappears within 3-5 days.",
    "Yes, the {product} has a 2-year international warranty. Keep your order number {order} as proof.",
    "The code SPRING24 expired on March 31. I've applied a 10% courtesy discount to your cart instead.",
]

TOOLS = {
    "lookup_order": ({"order_id": "{order}"}, {"status": "in_transit", "carrier": "DHL", "eta_days": 2}),
    "search_knowledge_base": (
        {"query": "{product} warranty", "top_k": 3},
        {"articles": ["KB-1042 Warranty terms", "KB-1107 International returns"]},
    ),
    "create_return": (
        {"order_id": "{order}", "reason": "defective"},
        {"rma": "RMA-{number}", "label_sent": True},
    ),
    "update_address": (
        {"order_id": "{order}", "address": "Hauptstrasse 12, 10115 Berlin"},
        {"updated": True},
    ),
    "check_payment": ({"order_id": "{order}"}, {"captures": 1, "authorizations": 2}),
}
TOOL_ERRORS = [
    "TimeoutError: tool call did not finish within 30s",
    "HTTPError: 503 Service Unavailable from orders-api",
    "ValidationError: order_id must match ^ORD-[0-9]{6}$",
]
GENERATION_ERRORS = [
    "openai.APIConnectionError: Connection error.",
    "anthropic.InternalServerError: Error code: 529 - overloaded_error",
    "Request timed out after 60s",
]
GENERATION_WARNINGS = [
    "Rate limited (429); succeeded after 1 retry",
    "finish_reason=length: the answer was cut off at max_tokens",
    "Response did not validate against the JSON schema; repaired",
]

RAG_QUESTIONS = [
    "What is our parental leave policy in Germany?",
    "How do I request access to the production database?",
    "Which regions does the EU data residency option cover?",
    "What are the rate limits of the public API?",
    "How do we rotate the signing keys for webhooks?",
    "What is the SLA for enterprise customers?",
    "Where do I find the brand guidelines for partner logos?",
]
RAG_ANSWERS = [
    "According to the HR handbook (section 4.2), employees in Germany get up to 14 months of "
    "parental leave, shared between parents.",
    "Open a ticket in the #access-requests queue with your manager's approval; access is granted "
    "for 8 hours through the bastion host.",
    "EU data residency stores data in Frankfurt (eu-central-1) with backups in Dublin (eu-west-1).",
    "The public API allows 1,000 requests per minute per key; bursts up to 2,000 are tolerated.",
    "Signing keys are rotated with the `rotate-webhook-secret` runbook; both keys are valid for 24h.",
]
DOCUMENTS = [
    "Q3 board report.pdf",
    "Vendor contract - Acme Logistics.docx",
    "Incident postmortem 2024-11-02.md",
    "Product requirements - Checkout v2.md",
    "Customer interview notes (12).txt",
]
TICKET_LABELS = ["billing", "shipping", "returns", "technical", "account", "other"]
SENTIMENTS = ["positive", "neutral", "negative"]
TONE_CATEGORIES = [
    {"label": "friendly", "value": 2},
    {"label": "neutral", "value": 1},
    {"label": "curt", "value": 0},
]
FEEDBACK_COMMENTS = [
    "Solved my problem, thanks!",
    "Answer was wrong about the delivery date",
    "Too long",
    "Exactly what I needed",
    "Didn't understand my question",
]

# name -> (type, [versions]); each version is the template text (chat prompts: the system message).
PROMPTS = {
    "support-agent-system": (
        "chat",
        [
            "You are a helpful support agent for {{shop}}. Answer briefly.",
            "You are a friendly support agent for {{shop}}. Use the tools to check facts before answering. "
            "Answer in at most three sentences.",
            "You are a friendly, precise support agent for {{shop}}. Always look up the order before "
            "answering questions about it. Answer in at most three sentences and offer a next step.",
        ],
    ),
    "rag-answer": (
        "text",
        [
            "Answer the question using the context.\n\nContext:\n{{context}}\n\nQuestion: {{question}}",
            "Answer the question using only the context below. If the answer is not in the context, say so. "
            "Cite the source document.\n\nContext:\n{{context}}\n\nQuestion: {{question}}",
        ],
    ),
    "summarize-document": (
        "text",
        [
            "Summarize the following text in 5 bullet points:\n\n{{text}}",
            "Summarize the following text for a busy executive: 3 bullet points, then one line with the "
            "main risk.\n\n{{text}}",
        ],
    ),
}
# name -> the version labelled "production"; "latest" always marks the newest version.
PROMPT_LABELS = {"support-agent-system": 2, "rag-answer": 2, "summarize-document": 1}
PROMPT_CONFIGS = {
    "support-agent-system": {"model": "gpt-4o", "temperature": 0.3, "max_tokens": 512},
    "rag-answer": {"model": "gpt-4o-mini", "temperature": 0},
    "summarize-document": {"model": "claude-3-5-sonnet-20241022", "temperature": 0.2},
}

RELEASES = ["v1.4.2", "v1.5.0", "v1.6.1"]
STAGING_RELEASE = "v1.7.0-rc.2"
REGIONS = ["eu-west-1", "us-east-1", "ap-southeast-1"]
CLIENTS = ["web", "ios", "android", "api"]
EXTRA_TAGS = [("vip", 0.08), ("beta", 0.15), ("experiment-a", 0.1), ("experiment-b", 0.1), ("mobile", 0.2)]
# Relative traffic per hour of day (UTC): quiet nights, a working-day peak.
HOUR_WEIGHTS = [2, 1, 1, 1, 1, 2, 4, 7, 10, 12, 13, 13, 12, 13, 13, 12, 11, 9, 7, 6, 5, 4, 3, 2]

ALL_MODELS = sorted(
    {name for choices in SCENARIO_MODELS.values() for name, _ in choices}
    | {REWRITE_MODEL, JUDGE_MODEL, EMBEDDING_MODEL}
)
SCORE_DESCRIPTIONS = {
    "helpfulness": "LLM-as-a-judge: how well the answer resolves the request (0-1)",
    "hallucination": "LLM-as-a-judge: share of claims not supported by the retrieved context (0-1)",
    "user-feedback": "Thumbs up / down from the end user",
    "tone": "Annotated tone of the agent's answer",
}
