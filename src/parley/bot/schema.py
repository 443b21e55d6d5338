"""The bot.yaml contract as pydantic models. Unknown keys are errors (`extra="forbid"`).

Every key is documented in docs/bot-yaml.md; keep the two in step.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator

BUILTIN_ENTITY_TYPES = ("email", "phone", "number", "date", "time", "url")
ENTITY_TYPES = ("list", "regex", "text", *BUILTIN_ENTITY_TYPES)
SOURCES = ("message", "user_profile", "default")


class Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


def _as_list(value: Any) -> Any:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


class ResponseRef(Spec):
    """`{response: key}`: a text from the bot's `responses:` catalog."""

    response: str


class RichSay(Spec):
    """A structured message: `{type: quick_replies, content: {title, buttons: [...]}}`."""

    type: Literal[
        "text",
        "buttons",
        "quick_replies",
        "card",
        "carousel",
        "list",
        "image",
        "video",
        "file",
        "custom",
    ]
    content: Any


Say = str | ResponseRef | RichSay
SayList = Annotated[list[Say], BeforeValidator(_as_list)]


class EnvironmentSpec(Spec):
    base_url: str | None = None


class ResilienceSpec(Spec):
    """`settings.resilience`: how the bot's outbound calls survive a failing endpoint
    (scheme, host, port and path, per bot). See docs/webhooks.md."""

    failure_threshold: int = Field(5, ge=0, le=1000)
    """Consecutive failures that open an endpoint's circuit breaker; 0 turns breakers off."""
    cool_down: float = Field(30.0, gt=0, le=3600)
    """Seconds an open breaker fails calls fast before letting one probe through."""
    retries: int = Field(0, ge=0, le=5)
    """Extra attempts after a connection error (refused, DNS, reset while connecting), inside
    the call's timeout, with `Idempotency-Key: <turn id>`. Off by default."""
    max_in_flight: int = Field(100, ge=1, le=100_000)
    """Calls in flight to one endpoint at once; more wait inside their timeout."""


class SettingsSpec(Spec):
    bot_break_message: str = "Sorry, something went wrong. Please try again."
    fallback_message: str = "Sorry, I didn't get that. Could you rephrase?"
    human_assistance: bool = False
    handoff_message: str | None = "Let me connect you to one of our agents."
    team: str | None = None
    max_text_length: int = Field(4096, ge=1, le=1_000_000)
    data_limit: int = Field(500, ge=0)
    data_ttl: float = Field(3 * 3600, ge=0)
    intent_threshold: float = Field(0.6, gt=0, le=1)
    max_hops: int = Field(10, ge=1, le=100)
    report_errors: bool = False
    """Report failed webhook calls to `<base>/errors` (SAP CAI dialect)."""
    resilience: ResilienceSpec = Field(default_factory=ResilienceSpec)


class EntitySpec(Spec):
    """A list entity (`values`), a regex entity (`pattern`), or a typed one (`type`)."""

    type: Literal["list", "regex", "text", "email", "phone", "number", "date", "time", "url"] = (
        "list"
    )
    values: dict[str, Annotated[list[str], BeforeValidator(_as_list)]] = Field(default_factory=dict)
    pattern: str | None = None
    fuzzy: bool | Annotated[float, Field(gt=0, le=1)] = True

    @model_validator(mode="before")
    @classmethod
    def _infer_type(cls, data: Any) -> Any:
        if isinstance(data, dict) and "type" not in data:
            if "pattern" in data:
                return {**data, "type": "regex"}
            if "values" in data:
                values = data["values"]
                if isinstance(values, list):  # `values: [a, b]` is shorthand for no synonyms
                    data = {**data, "values": {str(v): [] for v in values}}
                return {**data, "type": "list"}
        return data

    @model_validator(mode="after")
    def _check_kind(self) -> EntitySpec:
        if self.type == "list" and not self.values:
            raise ValueError("a list entity needs `values`")
        if self.type == "regex" and not self.pattern:
            raise ValueError("a regex entity needs `pattern`")
        return self


class IntentSpec(Spec):
    examples: Annotated[list[str], BeforeValidator(_as_list)]


class SlotSpec(Spec):
    """An entity a node collects. Sources are tried in order: the message, the user's
    profile (`profile_key`, default the entity's name), then `default`."""

    required: bool = False
    prompt: SayList = Field(default_factory=list)
    sources: list[Literal["message", "user_profile", "default"]] = Field(
        default=["message", "user_profile", "default"]  # a typed default: mypy rejects the lambda
    )
    default: Any = None
    profile_key: str | None = None


class AuthSpec(Spec):
    """`{type: basic, username, password}` or `{type: bearer, token}` (or `type: none`)."""

    type: Literal["none", "basic", "bearer"] = "none"
    username: str | None = None
    password: str | None = None
    token: str | None = None

    @model_validator(mode="after")
    def _complete(self) -> AuthSpec:
        if self.type == "basic" and (self.username is None or self.password is None):
            raise ValueError("basic auth needs `username` and `password`")
        if self.type == "bearer" and not self.token:
            raise ValueError("bearer auth needs `token`")
        return self


class TemplateSpec(Spec):
    """Reusable webhook settings (SAP CAI's templates): a webhook's own keys win."""

    auth: AuthSpec | None = None
    headers: dict[str, str] = Field(default_factory=dict)
    body: Any = None


DIALECTS = ("haptik", "cai", "rasa", "dialogflow")


class WebhookSpec(Spec):
    """A webhook call: relative `path` joined to the environment's base URL, or absolute `url`."""

    path: str | None = None
    url: str | None = None
    dialect: Literal["haptik", "cai", "rasa", "dialogflow"] = "haptik"
    secret: str | None = None
    secrets: list[str] | None = None
    """Several active secrets (a rotation): with `signing: standard` every one signs."""
    signing: Literal["hub-sha1", "standard"] = "hub-sha1"
    timeout: float = Field(30.0, gt=0, le=300)
    max_response_bytes: int = Field(1_048_576, gt=0)
    method: Literal["GET", "POST", "PUT", "DELETE", "PATCH"] = "POST"
    headers: dict[str, str] = Field(default_factory=dict)
    auth: AuthSpec | None = None
    template: str | None = None
    body: Any = None
    action: str | None = None
    retries: int | None = Field(None, ge=0, le=5)
    """Overrides `settings.resilience.retries` for this webhook."""

    @model_validator(mode="after")
    def _one_target(self) -> WebhookSpec:
        if (self.path is None) == (self.url is None):
            raise ValueError("a webhook needs exactly one of `path` or `url`")
        return self

    @model_validator(mode="after")
    def _signing_secrets(self) -> WebhookSpec:
        if self.secret is not None and self.secrets is not None:
            raise ValueError("give `secret` or `secrets`, not both")
        if self.secrets is not None and not self.secrets:
            raise ValueError("`secrets` must not be empty")
        if self.signing == "hub-sha1" and len(self.secrets or ()) > 1:
            raise ValueError(
                "`signing: hub-sha1` sends one signature: give one secret (rotate by giving"
                " the webhook both), or use `signing: standard`"
            )
        if self.signing == "standard":
            if not self.signing_secrets:
                raise ValueError("`signing: standard` needs `secret` or `secrets`")
            for secret in self.signing_secrets:
                _check_standard_secret(secret)
        return self

    @property
    def signing_secrets(self) -> list[str]:
        """The secrets that sign this webhook's requests (none: unsigned)."""
        if self.secrets is not None:
            return list(self.secrets)
        return [self.secret] if self.secret else []

    def with_template(self, template: TemplateSpec) -> WebhookSpec:
        """This webhook with a template's auth, headers and body filled in under its own."""
        return self.model_copy(
            update={
                "auth": self.auth or template.auth,
                "headers": {**template.headers, **self.headers},
                "body": self.body if self.body is not None else template.body,
            }
        )


def _check_standard_secret(secret: str) -> None:
    # imported here: the dialects package imports this module
    from parley.dialects.signatures import MIN_KEY_BYTES, SECRET_PREFIX, standard_key

    if not secret.startswith(SECRET_PREFIX):
        raise ValueError("a `signing: standard` secret is `whsec_` + base64 (see docs/webhooks.md)")
    key = standard_key(secret)  # ValueError names the problem
    if len(key) < MIN_KEY_BYTES:
        raise ValueError(f"a `signing: standard` secret needs at least {MIN_KEY_BYTES} key bytes")


class BotWebhookSpec(Spec):
    """Aimylogic's bot-level webhook: one URL for the whole bot, called by nodes' `event`s.
    Test conversations use `test_url` when it is set."""

    url: str
    test_url: str | None = None
    dialect: Literal["aimylogic"] = "aimylogic"
    headers: dict[str, str] = Field(default_factory=dict)
    timeout: float = Field(30.0, gt=0, le=300)
    max_response_bytes: int = Field(1_048_576, gt=0)


class HttpSpec(Spec):
    """The HTTP request block: a one-off call whose JSON answer is saved into variables.
    `url`, header values and string leaves of `body` are templates; `save` maps a variable
    to a path in the answer (`data.items[0].name`)."""

    method: Literal["GET", "POST", "PUT", "DELETE", "PATCH"] = "GET"
    url: str
    headers: dict[str, str] = Field(default_factory=dict)
    body: Any = None
    save: dict[str, str] = Field(default_factory=dict)
    timeout: float = Field(10.0, gt=0, le=300)
    max_response_bytes: int = Field(1_048_576, gt=0)
    on_success: str | None = None
    on_failure: str | None = None
    dialect: Literal["http"] = Field("http", exclude=True)


class LogicWebhookSpec(Spec):
    """Self-hosted logic (Init.ai): the whole conversation logic on the owner's server, which
    acknowledges at once and posts its result to parley's callback later."""

    url: str
    test_url: str | None = None
    dialect: Literal["initai"] = "initai"
    timeout: float = Field(10.0, gt=0, le=300)
    max_response_bytes: int = Field(1_048_576, gt=0)
    headers: dict[str, str] = Field(default_factory=dict)


class CodeSpec(Spec):
    """Python run in parley's sandbox (docs/code.md): `source` inline (a node's `code: |`),
    or `file`, relative to the bot folder, which loading reads into `source`."""

    source: str | None = None
    file: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _inline(cls, data: Any) -> Any:
        return {"source": data} if isinstance(data, str) else data

    @model_validator(mode="after")
    def _one_source(self) -> CodeSpec:
        if (self.source is None) == (self.file is None):
            raise ValueError("code needs exactly one of inline source or `file`")
        return self

    @property
    def filename(self) -> str:
        """The name tracebacks give the code."""
        return self.file or "<inline code>"


class SandboxSpec(Spec):
    """Bot-level `sandbox:`: what the bot's code nodes and logic script may use per call."""

    timeout: float = Field(10.0, gt=0, le=30)
    cpu_seconds: int = Field(10, ge=1, le=30)
    memory_mb: int = Field(512, ge=64, le=4096)
    max_output_bytes: int = Field(1_048_576, ge=1024, le=16 * 1_048_576)
    env: dict[str, str] = Field(default_factory=dict)
    """The only environment the code sees (with HOME and TMPDIR, its temp directory)."""
    allowed_hosts: list[str] = Field(default_factory=list)
    """Host names the code may connect to; none (no network at all) by default."""


class LogicSpec(Spec):
    """Bot-level `logic:`: every user message goes to the logic instead of the node graph
    (`enabled: false` hands the bot back to its nodes without removing the logic). The
    logic is a `webhook` (an Init.ai logic server) or `code`, a Python logic script run in
    the sandbox (`code: logic.py`, a file in the bot folder)."""

    webhook: LogicWebhookSpec | None = None
    code: CodeSpec | None = None
    enabled: bool = True

    @model_validator(mode="before")
    @classmethod
    def _code_file(cls, data: Any) -> Any:
        if isinstance(data, dict) and isinstance(data.get("code"), str):
            return {**data, "code": {"file": data["code"]}}
        return data

    @model_validator(mode="after")
    def _one_logic(self) -> LogicSpec:
        if (self.webhook is None) == (self.code is None):
            raise ValueError("logic needs exactly one of `webhook` or `code`")
        return self


class NextSpec(Spec):
    if_: str | None = Field(None, alias="if")
    node: str


class NodeSpec(Spec):
    intents: Annotated[list[str], BeforeValidator(_as_list)] = Field(default_factory=list)
    entities: dict[str, SlotSpec] = Field(default_factory=dict)
    says: SayList = Field(default_factory=list)
    webhook: WebhookSpec | None = None
    event: str | None = None
    event_enabled: bool = True
    http: HttpSpec | None = None
    code: CodeSpec | None = None
    success: SayList = Field(default_factory=list)
    failure: SayList = Field(default_factory=list)
    end: bool = False
    next: Annotated[list[NextSpec], BeforeValidator(_as_list)] = Field(default_factory=list)

    @model_validator(mode="after")
    def _webhook_or_code(self) -> NodeSpec:
        if self.webhook is not None and self.code is not None:
            raise ValueError("a node calls a `webhook` or runs `code`, not both")
        return self


ResponseText = str | dict[str, str]


class BotSpec(Spec):
    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
    description: str = ""
    language: str = "en"
    environments: dict[Literal["test", "production"], EnvironmentSpec] = Field(default_factory=dict)
    settings: SettingsSpec = Field(default_factory=SettingsSpec)
    entities: dict[str, EntitySpec] = Field(default_factory=dict)
    intents: dict[str, IntentSpec] = Field(default_factory=dict)
    nodes: dict[str, NodeSpec] = Field(default_factory=dict)
    responses: dict[str, ResponseText] = Field(default_factory=dict)
    templates: dict[str, TemplateSpec] = Field(default_factory=dict)
    webhook: BotWebhookSpec | None = None
    logic: LogicSpec | None = None
    sandbox: SandboxSpec = Field(default_factory=SandboxSpec)
    start: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _nodes_or_logic(cls, data: Any) -> Any:
        if isinstance(data, dict) and "nodes" not in data and "logic" not in data:
            raise ValueError("missing required key `nodes` (or a bot-level `logic:`)")
        return data

    def response_text(self, key: str, language: str) -> str | None:
        """The catalog text for `key` in `language`, else the bot's language, else any."""
        entry = self.responses.get(key)
        if entry is None or isinstance(entry, str):
            return entry
        return entry.get(language) or entry.get(self.language) or next(iter(entry.values()), None)
