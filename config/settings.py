"""Gateway settings: environment variables (``LAPOR_*``) plus an optional YAML file.

Validated once at start so a typo fails loudly instead of silently disabling a channel.
Secrets are read only from the environment or the YAML file named by ``LAPOR_CONFIG``;
they are never logged (``SecretStr``).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

ADMIN_TOKEN_MIN_LEN = 24  # the admin token guards replay and the dashboard: no short guessable values


class SettingsError(RuntimeError):
    """Raised with a readable explanation when the configuration is invalid."""


@dataclass(frozen=True)
class ChannelStatus:
    """Whether a channel endpoint/poller is configured, and why not."""

    name: str
    enabled: bool
    reason: str


class _YamlSource(PydanticBaseSettingsSource):
    """Reads the YAML file named by ``LAPOR_CONFIG``; keys are the env names with or without prefix."""

    def __init__(self, settings_cls: type[BaseSettings]) -> None:
        super().__init__(settings_cls)
        self._data: dict[str, Any] = {}
        path = os.environ.get("LAPOR_CONFIG")
        if path:
            try:
                raw = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
            except OSError as exc:
                raise SettingsError(f"LAPOR_CONFIG: cannot read {path}: {exc}") from exc
            except yaml.YAMLError as exc:
                raise SettingsError(f"LAPOR_CONFIG: {path} is not valid YAML: {exc}") from exc
            if not isinstance(raw, dict):
                raise SettingsError(f"LAPOR_CONFIG: {path} must hold a mapping of settings")
            for key, value in raw.items():
                name = str(key).lower()
                if name.startswith("lapor_"):
                    name = name[len("lapor_"):]
                self._data[name] = value

    def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:
        return self._data.get(field_name), field_name, False

    def __call__(self) -> dict[str, Any]:
        known = set(self.settings_cls.model_fields)
        unknown = sorted(set(self._data) - known)
        if unknown:
            raise SettingsError(f"LAPOR_CONFIG: unknown setting(s): {', '.join(unknown)}")
        return dict(self._data)



def parse_rates(spec: str) -> dict[str, float]:
    """``"sms=50, email=10"`` → {"sms": 50.0, "email": 10.0}; a bad entry raises ValueError."""
    rates: dict[str, float] = {}
    for item in (p.strip() for p in spec.split(",")):
        if not item:
            continue
        name, sep, value = item.partition("=")
        try:
            rate = float(value)
        except ValueError:
            rate = -1.0
        if not sep or not name.strip() or not rate > 0:
            raise ValueError(f"{item!r}: expected <channel>=<sends per second above 0>")
        rates[name.strip()] = rate
    return rates

class Settings(BaseSettings):
    """All gateway settings. Field ``x`` is read from ``LAPOR_X``."""

    model_config = SettingsConfigDict(env_prefix="LAPOR_", extra="ignore", case_sensitive=False)

    # storage
    redis_url: str | None = None
    data_dir: Path = Path("./var")
    core_redis_url: str | None = None
    core_queue: str = "lapor-core"
    core_func: str = "lapor_core.receive_complaint"
    core_job_compress: bool = False
    redis_server_bin: str | None = None

    # HTTP
    http_host: str = "127.0.0.1"
    http_port: int = Field(8708, ge=0, le=65535)
    max_body_bytes: int = Field(2 * 1024 * 1024, ge=1024)
    email_max_body_bytes: int = Field(30 * 1024 * 1024, ge=1024)

    # processes
    workers: int | str = "auto"  # a number, or auto: chosen from the cores (worker_count)
    log_format: str = "auto"  # auto | json | console
    log_level: str = "info"
    environment: str = "production"

    # intake / dispatcher tuning
    dedupe_ttl_s: int = Field(7 * 24 * 3600, ge=60)
    stream_retention_s: int = Field(3 * 24 * 3600, ge=60)
    dispatch_batch: int = Field(200, ge=1, le=5000)
    claim_idle_ms: int = Field(30_000, ge=50)
    max_attempts: int = Field(5, ge=1, le=100)
    dead_letter_max: int = Field(10_000, ge=1)  # lapor:dead cap; at the cap entries stay pending (dispatcher.dead)
    spool_flush_interval_s: float = Field(0.5, gt=0)
    spool_max_mb: int = Field(2048, ge=1)
    channel_log_size: int = Field(200, ge=10)
    channel_log_ttl_s: int = Field(24 * 3600, ge=60)

    # outbound acknowledgements
    ack_enabled: bool = True
    ack_max_attempts: int = Field(8, ge=1)
    ack_backoff_s: float = Field(5.0, gt=0)
    ack_rate_per_minute: int = Field(6, ge=1)

    # secrets / channel configuration
    admin_token: SecretStr | None = None
    http_token: SecretStr | None = None
    sms_token: SecretStr | None = None
    meta_app_secret: SecretStr | None = None
    meta_verify_token: SecretStr | None = None
    meta_page_token: SecretStr | None = None
    twitter_consumer_secret: SecretStr | None = None
    twitter_bearer_token: SecretStr | None = None
    twitter_user_id: str | None = None
    telegram_bot_token: SecretStr | None = None
    telegram_secret: SecretStr | None = None
    imap_host: str | None = None
    imap_port: int | None = Field(None, ge=1, le=65535)
    imap_user: str | None = None
    imap_password: SecretStr | None = None
    imap_folder: str = "INBOX"
    imap_tls: str = "tls"  # tls | starttls | none
    email_token: SecretStr | None = None
    smtp_url: SecretStr | None = None

    # blob store (attachments kept by the gateway; content-addressed by sha256)
    blob_dir: Path | None = None  # default: <data_dir>/blobs
    blob_max_bytes: int = Field(20 * 1024 * 1024, ge=1024)

    # --- sms ---
    sms_shortcode: str = "1708"
    multipart_timeout_s: int = Field(600, ge=1)
    kannel_sendsms_url: str | None = None  # e.g. http://kannel:13013/cgi-bin/sendsms
    kannel_username: str | None = None
    kannel_password: SecretStr | None = None
    jasmin_send_url: str | None = None  # e.g. http://jasmin:1401/send
    jasmin_username: str | None = None
    jasmin_password: SecretStr | None = None
    smpp_host: str | None = None
    smpp_port: int = Field(2775, ge=1, le=65535)
    smpp_system_id: str | None = None
    smpp_password: SecretStr | None = None
    smpp_system_type: str = ""
    smpp_bind_mode: str = "transceiver"  # receiver | transceiver
    smpp_default_alphabet: str = "gsm"  # what data_coding 0 means on this SMSC: gsm | latin1 | ascii
    smpp_enquire_link_s: float = Field(30.0, gt=0)
    smpp_redelivery_window_s: int = Field(300, ge=1)  # same deliver_sm again within it = SMSC redelivery
    smpp_use_spool: bool = True  # Redis down: spool deliver_sm (resp 0) instead of answering 0x64
    sms_reply_wait_s: float = Field(5.0, gt=0)  # how long a worker waits for the bind to submit a reply
    sms_help_every_s: int = Field(3600, ge=1)  # the help text for an empty SMS, at most once per number per …

    # --- meta ---
    meta_graph_url: str = "https://graph.facebook.com/v21.0"
    meta_page_id: str | None = None
    meta_ig_user_id: str | None = None
    meta_fetch_attachments: bool = False

    # --- twitter ---
    twitter_api_url: str = "https://api.x.com"
    twitter_handle: str = "LAPOR1708"
    twitter_poll: bool = True  # poll mentions when a bearer token is set
    twitter_poll_interval_s: float = Field(60.0, gt=0)
    twitter_consumer_key: SecretStr | None = None
    twitter_access_token: SecretStr | None = None
    twitter_access_token_secret: SecretStr | None = None
    twitter_backfill_s: int = Field(24 * 3600, ge=0)  # first poll (no checkpoint): how far back; 0 = all X serves

    # --- telegram ---
    telegram_api_url: str = "https://api.telegram.org"
    telegram_polling: str = "auto"  # auto (poll when no webhook secret) | on | off
    telegram_allow_groups: bool = False
    telegram_followup_window_s: int = Field(300, ge=1)
    telegram_fetch_files: bool = False
    telegram_report_idle_s: int = Field(1800, ge=1)  # an open /lapor closes after this much silence
    telegram_poll_timeout_s: int = Field(25, ge=0, le=50)  # getUpdates long-poll timeout
    telegram_send_per_chat_per_s: float = Field(1.0, gt=0)  # Telegram FAQ: ~1 msg/s per chat
    telegram_send_per_s: float = Field(30.0, gt=0)  # Telegram FAQ: ~30 msg/s per bot
    telegram_webhook_url: str | None = None  # public https URL of /channels/telegram/webhook (setWebhook, monitor)
    telegram_webhook_check_s: float = Field(60.0, gt=0)  # getWebhookInfo interval for health

    # --- whatsapp (Cloud API) ---
    whatsapp_app_secret: SecretStr | None = None
    whatsapp_verify_token: SecretStr | None = None
    whatsapp_token: SecretStr | None = None
    whatsapp_phone_number_id: str | None = None
    whatsapp_graph_url: str = "https://graph.facebook.com/v21.0"
    whatsapp_template: str | None = None  # approved template for messages outside the 24-hour window
    whatsapp_template_language: str = "id"
    whatsapp_send_per_s: float = Field(80.0, gt=0)  # Cloud API default throughput per business number
    whatsapp_send_per_recipient_per_min: float = Field(10.0, gt=0)  # about one message per 6 s per citizen
    whatsapp_fetch_media: bool = True  # media URLs live 5 minutes: fetch them when the message is dispatched

    # --- email ---
    imap_processed_folder: str = "LAPOR/Processed"
    imap_idle_timeout_s: float = Field(25 * 60, gt=0)  # re-issue IDLE before servers drop it (29 min)
    imap_poll_interval_s: float = Field(60.0, gt=0)
    smtp_from: str = "LAPOR! <noreply@lapor.go.id>"
    email_own_addresses: str = ""  # comma-separated: our mailboxes (our own acks are not complaints)
    imap_ca_file: Path | None = None  # extra CA bundle for the IMAP server's certificate (private CA)
    imap_backoff_s: float = Field(1.0, gt=0)  # first reconnect delay (doubles up to 60 s)
    # larger mail is not fetched: a stub record (headers only, flag truncated) says it is in the mailbox
    imap_max_message_bytes: int = Field(30 * 1024 * 1024, ge=1024)
    smtp_timeout_s: float = Field(30.0, gt=0)
    smtp_ca_file: Path | None = None
    email_thread_ttl_s: int = Field(180 * 24 * 3600, ge=60)  # how long a reply to our ack is linked

    # --- normalizer ---
    rules_file: Path | None = None  # default: the shipped config/topics.yaml
    spam_window_s: int = Field(600, ge=1)
    spam_repeat_threshold: int = Field(3, ge=2)

    # --- health and alerts ---
    alert_webhook_url: str | None = None
    alert_email_to: str | None = None
    alert_telegram_chat_id: str | None = None
    silent_floor_per_hour: float = Field(1.0, ge=0)
    admin_session_secret: SecretStr | None = None
    admin_session_max_age_s: int = Field(12 * 3600, ge=60)
    health_window_s: int = Field(900, ge=60)  # error rates are judged over this many recent seconds
    health_service_grace_s: float = Field(300.0, ge=0)  # a poller down this long is failing, before: degraded
    health_backlog_degraded: int = Field(10_000, ge=1)
    health_eval_interval_s: float = Field(30.0, gt=0)  # how often the alert loop evaluates health
    alert_timeout_s: float = Field(10.0, gt=0)

    # --- operations: proxies, metrics, alert damping ---
    trusted_proxies: str = ""  # comma-separated addresses/CIDRs whose X-Forwarded-*/Forwarded headers are believed
    metrics_token: SecretStr | None = None  # bearer required by /metrics (and /readyz details) when set
    metrics_port: int | None = Field(None, ge=0, le=65535)  # serve /metrics on its own port instead of the public one
    metrics_host: str = "127.0.0.1"  # address of the separate metrics listener
    alert_startup_grace_s: float = Field(120.0, ge=0)  # no alert this long after a gateway starts
    alert_hold_s: float = Field(60.0, ge=0)  # a new state must hold this long before it alerts
    alert_flap_window_s: float = Field(1800.0, gt=0)  # transitions counted over this window for flapping
    alert_flap_threshold: int = Field(4, ge=2)  # this many transitions in the window = flapping (said once)

    # --- scale-out: Redis Sentinel, replication, processes ---
    redis_sentinels: str | None = None  # comma-separated host:port of the Sentinels; wins over LAPOR_REDIS_URL
    redis_sentinel_service: str = "mymaster"
    redis_password: SecretStr | None = None  # the data nodes' password under Sentinel (a URL carries its own)
    redis_sentinel_password: SecretStr | None = None
    redis_wait_replicas: int = Field(0, ge=0, le=16)  # intake answers after WAIT confirms this many replicas
    redis_wait_timeout_ms: int = Field(500, ge=1, le=4000)  # fewer replicas by then: spooled (< socket timeout)
    http_processes: int = Field(1, ge=1, le=64)  # HTTP processes sharing the port (SO_REUSEPORT)
    worker_nice: int = Field(7, ge=0, le=19)  # serve's workers yield the CPU to the HTTP processes

    @field_validator("workers", mode="before")
    @classmethod
    def _workers(cls, v: object) -> int | str:
        text = str(v).strip().lower()
        if text == "auto":
            return "auto"
        try:
            n = int(text)
        except ValueError:
            raise ValueError("must be a number of processes (0-64) or auto") from None
        if not 0 <= n <= 64:
            raise ValueError("must be between 0 and 64, or auto")
        return n

    @field_validator("redis_sentinels")
    @classmethod
    def _sentinels(cls, v: str | None) -> str | None:
        if v is not None and v.strip():
            parse_hostports(v)  # raises ValueError with the bad item
            return v.strip()
        return None

    @property
    def sentinel_addresses(self) -> list[tuple[str, int]]:
        return parse_hostports(self.redis_sentinels) if self.redis_sentinels else []

    @property
    def worker_count(self) -> int:
        """``LAPOR_WORKERS``, with ``auto`` resolved from the cores this process may use."""
        return self.workers if isinstance(self.workers, int) else auto_workers(self.http_processes)

    # --- two-way: the core's messages to citizens and their delivery statuses ---
    outbound_token: SecretStr | None = None  # bearer of /outbound/messages; unset => disabled (403)
    route_ttl_days: int = Field(180, ge=1)  # how long a record's route is kept
    core_status_queue: str = "lapor-core-status"
    core_status_func: str = "lapor_core.delivery_status"
    public_url: str | None = None  # default http://<http_host>:<http_port> (dlr-url of each send)
    sms_max_parts: int = Field(4, ge=1, le=255)
    public_notice_text: str = "LAPOR! Ada kabar terbaru untuk laporan {ref}. Silakan cek di lapor.go.id."
    meta_human_agent: bool = False  # Messenger/Instagram: HUMAN_AGENT tag up to 7 days after the window
    outbound_per_citizen_per_hour: int = Field(5, ge=1)
    reply_window_h: int = Field(72, ge=1)
    completeness_wait_s: int = Field(1800, ge=0)  # how long a place-less complaint waits for the answer; 0 = off
    completeness_channels: str = "sms,telegram,whatsapp,facebook,instagram,twitter,email"  # comma-separated
    # sends per second per channel and worker process, "sms=50,email=10,twitter=0.5"; unlisted: unpaced
    outbound_rates: str = ""

    @field_validator("log_format")
    @classmethod
    def _log_format(cls, v: str) -> str:
        if v not in {"auto", "json", "console"}:
            raise ValueError("must be auto, json or console")
        return v

    @field_validator("admin_token")
    @classmethod
    def _admin_token(cls, v: SecretStr | None) -> SecretStr | None:
        if v is not None and v.get_secret_value() and len(v.get_secret_value()) < ADMIN_TOKEN_MIN_LEN:
            raise ValueError(f"must be at least {ADMIN_TOKEN_MIN_LEN} characters (e.g. `openssl rand -hex 24`)")
        return v

    @field_validator("smtp_url")
    @classmethod
    def _smtp_url(cls, v: SecretStr | None) -> SecretStr | None:
        """Credentials never go over plain SMTP: ``?insecure=1`` is accepted only for a loopback server."""
        import ipaddress
        from urllib.parse import parse_qs, urlsplit

        if v is None or not v.get_secret_value():
            return v
        u = urlsplit(v.get_secret_value())
        if u.scheme not in ("smtp", "smtps"):
            raise ValueError("must start with smtp:// or smtps://")
        if parse_qs(u.query).get("insecure", ["0"])[0].lower() in ("1", "true", "yes"):
            host = u.hostname or ""
            try:
                loopback = host == "localhost" or ipaddress.ip_address(host).is_loopback
            except ValueError:
                loopback = False
            if not loopback:
                raise ValueError("insecure=1 is only allowed for a loopback SMTP server")
        return v

    @field_validator("trusted_proxies")
    @classmethod
    def _trusted_proxies(cls, v: str) -> str:
        import ipaddress

        for part in (p.strip() for p in v.split(",")):
            if part:
                try:
                    ipaddress.ip_network(part, strict=False)
                except ValueError:
                    raise ValueError(f"{part!r} is not an IP address or CIDR") from None
        return v

    @field_validator("outbound_rates")
    @classmethod
    def _outbound_rates(cls, v: str) -> str:
        parse_rates(v)
        return v

    def outbound_rate(self, channel: str) -> float | None:
        """``LAPOR_OUTBOUND_RATES``' sends per second for ``channel`` (reply_to channel), None: unpaced."""
        return parse_rates(self.outbound_rates).get(channel)

    @field_validator("imap_tls")
    @classmethod
    def _imap_tls(cls, v: str) -> str:
        v = v.lower()
        if v in {"true", "1", "yes", "ssl"}:
            v = "tls"
        if v in {"false", "0", "no", "plain"}:
            v = "none"
        if v not in {"tls", "starttls", "none"}:
            raise ValueError("must be tls, starttls or none")
        return v

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # environment wins over the YAML file
        return (init_settings, env_settings, _YamlSource(settings_cls))

    # ------------------------------------------------------------------ helpers
    @staticmethod
    def secret(value: SecretStr | None) -> str | None:
        """The plain secret, or None when unset or blank."""
        if value is None:
            return None
        plain = value.get_secret_value()
        return plain or None

    @property
    def gateway_redis_url(self) -> str:
        """The gateway's Redis for tools and senders: external, or the socket of the embedded one."""
        if self.redis_url:
            return self.redis_url
        return f"unix://{(Path(self.data_dir) / 'redis' / 'redis.sock').resolve()}"

    @property
    def blobs_path(self) -> Path:
        return Path(self.blob_dir) if self.blob_dir else Path(self.data_dir) / "blobs"

    @property
    def embedded_redis(self) -> bool:
        return not self.redis_url and not self.redis_sentinels

    def channel_statuses(self) -> list[ChannelStatus]:
        """Which channels are enabled, and for the disabled ones which setting is missing.

        Each channel declares the fields it needs in its ``ChannelSpec``; this asks them all.
        """
        from channels import registry  # the channels import settings, not the other way round

        return registry.statuses(self)


def parse_hostports(value: str) -> list[tuple[str, int]]:
    """``"h1:26379, h2:26379"`` -> ``[("h1", 26379), ("h2", 26379)]``; ``[::1]:26379`` for IPv6."""
    out: list[tuple[str, int]] = []
    for item in (part.strip() for part in value.split(",")):
        if not item:
            continue
        host, sep, port = item.rpartition(":")
        host = host.strip("[]")
        if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
            raise ValueError(f"{item!r} is not host:port")
        out.append((host, int(port)))
    if not out:
        raise ValueError("no host:port given")
    return out


def auto_workers(http_processes: int = 1) -> int:
    """Dispatcher workers for ``LAPOR_WORKERS=auto``: one per usable core, minus the cores taken by
    HTTP processes beyond the first, at least one.

    Why: the dispatcher (full normalizer) costs several times more CPU per record than intake, so
    end to end is bounded by the workers (bench/RESULTS.md: on 2 cores one worker moved 1,141
    records/s end to end, two moved 1,692 and cut the accept -> core lag p99 from 3.9 s to 0.8 s
    at 1,000/s). What a second worker cost was the HTTP side's latency, which ``serve`` avoids by
    running its workers at a lower CPU priority (``LAPOR_WORKER_NICE``): intake takes the CPU when
    a request is waiting, the workers take every idle cycle.
    """
    try:
        cores = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cores = os.cpu_count() or 1
    return max(1, cores - (http_processes - 1))


def load_settings(**overrides: Any) -> Settings:
    """Build and validate settings; raise ``SettingsError`` with every problem listed."""
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        lines = []
        for err in exc.errors():
            loc = ".".join(str(p) for p in err["loc"])
            lines.append(f"LAPOR_{loc.upper()}: {err['msg']}")
        raise SettingsError("invalid configuration:\n  " + "\n  ".join(lines)) from None
