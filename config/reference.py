"""What each setting does, for the generated configuration reference (docs/configuration.md, .env.example).

Names, types, defaults and secrecy come from ``config.settings.Settings`` itself; this table
adds one sentence per setting and its group. ``scripts/gen_config_reference.py`` writes both
files; a test fails when a setting has no entry here or the files are out of date.
"""

from __future__ import annotations

# group -> setting -> what it is / enables
DESCRIPTIONS: dict[str, dict[str, str]] = {
    "Storage": {
        "redis_sentinels": "Comma-separated host:port of Redis Sentinels; when set the gateway follows the primary "
                           "they name (wins over LAPOR_REDIS_URL).",
        "redis_sentinel_service": "The Sentinel service (master) name.",
        "redis_password": "Password of the Redis data nodes under Sentinel (a URL carries its own).",
        "redis_sentinel_password": "Password of the Sentinels themselves, if they require one.",
        "redis_wait_replicas": "Replicas that must confirm (WAIT) an intake batch before the provider gets its 2xx; "
                               "0 answers after the primary alone. With 1, an acknowledged message survives the "
                               "loss of the primary.",
        "redis_wait_timeout_ms": "How long intake waits for those replicas; fewer by then: the batch is also spooled.",
        "dead_letter_max": "Most entries kept in lapor:dead; at the cap further failures stay pending (never "
                           "trimmed away), are counted and turn pipeline health failing.",
        "redis_url": "Redis of the gateway (stream, idempotency, metrics). Unset: `serve` starts an embedded "
                     "redis-server (AOF on) under LAPOR_DATA_DIR/redis.",
        "data_dir": "Local state: the fsync'd spool used while Redis is down, and the embedded Redis data.",
        "core_redis_url": "Redis of the LAPOR core queue when it is not the gateway's own Redis.",
        "core_queue": "RQ queue name of the LAPOR core.",
        "core_func": "Function path the core's RQ workers run for each complaint.",
        "core_job_compress": "zlib the record in each core RQ job as RQ itself does: about 60% less Redis "
                             "memory per queued job for ~20 µs of worker CPU per record (RQ reads both).",
        "redis_server_bin": "redis-server binary for the embedded Redis (default: the one on PATH).",
        "blob_dir": "Where fetched attachments are kept (content-addressed). Default: LAPOR_DATA_DIR/blobs.",
        "blob_max_bytes": "Largest attachment the gateway downloads and keeps.",
    },
    "HTTP": {
        "http_host": "Address the HTTP server listens on (0.0.0.0 in containers).",
        "http_port": "Port of the HTTP server (webhooks, APIs, /admin, health).",
        "max_body_bytes": "Default request body limit (413 above it).",
        "email_max_body_bytes": "Body limit of the raw-MIME email endpoint.",
        "trusted_proxies": "Comma-separated addresses/CIDRs of reverse proxies whose Forwarded/X-Forwarded-* "
                           "headers are believed (scheme, host, client address). Empty: none.",
    },
    "Processes and logs": {
        "http_processes": "HTTP processes `serve` runs on one port (SO_REUSEPORT); pollers and binds run in the first.",
        "worker_nice": "CPU niceness of `serve`'s worker processes, so the HTTP side answers first under load.",
        "workers": "Dispatcher worker processes started by `serve`: auto (one per usable core, less extra HTTP "
                   "processes) or a number (0: run `worker` separately).",
        "log_format": "auto (readable in a terminal, JSON otherwise), json or console.",
        "log_level": "debug, info, warning or error.",
        "environment": "Free-form name of this deployment (production, staging, …).",
    },
    "Intake and dispatch tuning": {
        "dedupe_ttl_s": "How long a provider's message id is remembered for deduplication.",
        "stream_retention_s": "How long dispatched entries stay in the inbound stream (replay --range).",
        "dispatch_batch": "Stream entries a worker takes per batch.",
        "claim_idle_ms": "Entries pending this long at a dead worker are reclaimed by another.",
        "max_attempts": "Failed processing attempts before an entry becomes a dead letter.",
        "spool_flush_interval_s": "How often the local spool is retried while Redis is down.",
        "spool_max_mb": "Bound of each local spool on disk; past it intake answers 503 (providers retry) "
                        "instead of filling the disk.",
        "channel_log_size": "Requests kept per channel in the (redacted) channel log.",
        "channel_log_ttl_s": "How long the channel log is kept.",
    },
    "Acknowledgements": {
        "ack_enabled": "Send the citizen an acknowledgement with the reference on the channel they used.",
        "ack_max_attempts": "Attempts per acknowledgement before it is dead-lettered.",
        "ack_backoff_s": "First retry delay of an acknowledgement (doubles).",
        "ack_rate_per_minute": "Acknowledgements per destination per minute at most.",
    },
    "Admin": {
        "admin_token": "Bearer token of /admin and its APIs (at least 24 characters). Unset: admin disabled.",
        "admin_session_secret": "Key that signs admin session cookies (default: derived from the admin token).",
        "admin_session_max_age_s": "Lifetime of an admin login session.",
    },
    "Generic API channel": {
        "http_token": "Bearer token of POST /channels/http/complaints. Enables the agencies' API channel.",
    },
    "SMS 1708": {
        "sms_token": "Token Kannel/Jasmin send with each SMS. Enables the SMS endpoints.",
        "sms_shortcode": "The short code citizens text.",
        "multipart_timeout_s": "How long parts of a concatenated SMS are awaited.",
        "kannel_sendsms_url": "Kannel sendsms URL for replies (e.g. http://kannel:13013/cgi-bin/sendsms).",
        "kannel_username": "Kannel sendsms user.",
        "kannel_password": "Kannel sendsms password.",
        "jasmin_send_url": "Jasmin HTTP API /send URL for replies.",
        "jasmin_username": "Jasmin user.",
        "jasmin_password": "Jasmin password.",
        "smpp_host": "SMSC host: enables the SMPP bind.",
        "smpp_port": "SMSC port.",
        "smpp_system_id": "SMPP system_id.",
        "smpp_password": "SMPP password.",
        "smpp_system_type": "SMPP system_type.",
        "smpp_bind_mode": "receiver or transceiver (transceiver also sends replies).",
        "smpp_default_alphabet": "What data_coding 0 means on this SMSC: gsm, latin1 or ascii.",
        "smpp_enquire_link_s": "Keep-alive interval of the bind.",
        "smpp_redelivery_window_s": "The same deliver_sm again within this window is an SMSC redelivery.",
        "smpp_use_spool": "While Redis is down, spool deliver_sm (answer OK) instead of asking for redelivery.",
        "sms_reply_wait_s": "How long a worker waits for the bind to submit a reply.",
        "sms_help_every_s": "The help text for an empty SMS goes at most once per number per this period.",
    },
    "Facebook and Instagram": {
        "meta_app_secret": "App secret that signs Meta webhooks. With the verify token, enables the channel.",
        "meta_verify_token": "Token Meta echoes when subscribing the webhook.",
        "meta_page_token": "Page access token for replies (Send API).",
        "meta_graph_url": "Graph API base URL.",
        "meta_page_id": "The LAPOR! Page id.",
        "meta_ig_user_id": "The LAPOR! Instagram account id.",
        "meta_fetch_attachments": "Download attachments from Meta's media hosts into the blob store.",
    },
    "WhatsApp (Cloud API)": {
        "whatsapp_app_secret": "App secret that signs WhatsApp webhooks (X-Hub-Signature-256). With the verify "
                               "token and the access token, enables the channel.",
        "whatsapp_verify_token": "Token Meta echoes when subscribing the WhatsApp webhook.",
        "whatsapp_token": "Access token (system user) for the Cloud API: replies and media downloads.",
        "whatsapp_phone_number_id": "Phone number id of the LAPOR! business number replies are sent from.",
        "whatsapp_graph_url": "Graph API base URL for WhatsApp (sending and media).",
        "whatsapp_template": "Approved message template sent outside the 24-hour window (body parameters: the "
                             "reference, then the text). Unset: such messages fail with window_closed.",
        "whatsapp_template_language": "Language code of that template.",
        "whatsapp_send_per_s": "Messages per second at most from the business number (Cloud API default 80).",
        "whatsapp_send_per_recipient_per_min": "Messages per minute at most to one citizen (bursts up to this many).",
        "whatsapp_fetch_media": "Download media (photos, voice notes, documents) into the blob store when the "
                                "message is dispatched; the Cloud API media URL lives 5 minutes.",
    },
    "X (Twitter)": {
        "twitter_consumer_secret": "Consumer secret (webhook signatures, CRC). Enables the Account Activity webhook.",
        "twitter_bearer_token": "App bearer token: enables the mentions poller.",
        "twitter_user_id": "Numeric id of @LAPOR1708.",
        "twitter_api_url": "X API base URL.",
        "twitter_handle": "The account's handle (without @).",
        "twitter_poll": "Poll mentions when a bearer token is set.",
        "twitter_poll_interval_s": "Mentions poll interval.",
        "twitter_consumer_key": "Consumer key (user-context replies).",
        "twitter_access_token": "Access token of the account (replies, DMs).",
        "twitter_access_token_secret": "Access token secret of the account.",
        "twitter_backfill_s": "First poll without a checkpoint: how far back to read (0: all X serves).",
    },
    "Telegram": {
        "telegram_bot_token": "Bot token: replies, long polling, the admin alert chat.",
        "telegram_secret": "Secret token Telegram sends with webhooks. Enables the webhook endpoint.",
        "telegram_api_url": "Bot API base URL.",
        "telegram_polling": "auto (poll when no webhook secret), on or off.",
        "telegram_allow_groups": "Accept messages from group chats.",
        "telegram_followup_window_s": "Messages within this window after a report join it.",
        "telegram_fetch_files": "Download photos/documents into the blob store.",
        "telegram_report_idle_s": "An open /lapor report closes after this much silence.",
        "telegram_poll_timeout_s": "getUpdates long-poll timeout.",
        "telegram_send_per_chat_per_s": "Messages per second per chat at most.",
        "telegram_send_per_s": "Messages per second per bot at most.",
        "telegram_webhook_url": "Public https URL of /channels/telegram/webhook (setWebhook, monitoring).",
        "telegram_webhook_check_s": "getWebhookInfo interval for health.",
    },
    "Email": {
        "imap_max_message_bytes": "Largest mail the IMAP poller fetches whole (RFC822.SIZE); a larger one becomes a "
                                  "stub record of its headers flagged truncated.",
        "email_token": "Bearer token of POST /channels/email/inbound (raw MIME from an MTA).",
        "imap_host": "IMAP server: with user and password, enables the mailbox poller.",
        "imap_port": "IMAP port (default by TLS mode).",
        "imap_user": "IMAP user.",
        "imap_password": "IMAP password.",
        "imap_folder": "Folder read for complaints.",
        "imap_tls": "tls, starttls or none.",
        "imap_processed_folder": "Where processed mails are moved.",
        "imap_idle_timeout_s": "IDLE is re-issued after this long.",
        "imap_poll_interval_s": "Poll interval when the server has no IDLE.",
        "imap_ca_file": "Extra CA bundle for the IMAP server's certificate.",
        "imap_backoff_s": "First reconnect delay (doubles up to 60 s).",
        "smtp_url": "smtp(s)://user:pass@host:port for acknowledgements and alert mail; with credentials "
                    "smtp:// always uses STARTTLS (`?insecure=1` only for a loopback server).",
        "smtp_from": "From address of outgoing mail.",
        "smtp_timeout_s": "SMTP timeout.",
        "smtp_ca_file": "Extra CA bundle for the SMTP server's certificate.",
        "email_own_addresses": "Comma-separated own mailboxes (mail from them is not a complaint).",
        "email_thread_ttl_s": "How long a reply to an acknowledgement is linked to its report.",
    },
    "Normalizer": {
        "rules_file": "Topic/agency rule file (default: the shipped config/topics.yaml).",
        "spam_window_s": "Window for the repeated-message spam flag.",
        "spam_repeat_threshold": "Same text this many times in the window is flagged possible spam.",
    },
    "Conversations": {
        "completeness_wait_s": "Seconds a place-less complaint is held while the citizen is asked where it "
                               "happened; 0 turns holding and asking off.",
        "completeness_channels": "Comma-separated channels on which the gateway asks for a missing place "
                                 "(never api or agency forwards).",
    },
    "Health, alerts and metrics": {
        "alert_webhook_url": "Alerts are POSTed here as JSON.",
        "alert_email_to": "Comma-separated alert recipients (sent through LAPOR_SMTP_URL).",
        "alert_telegram_chat_id": "Telegram chat for alerts (sent by LAPOR_TELEGRAM_BOT_TOKEN's bot).",
        "alert_timeout_s": "Timeout of one alert delivery.",
        "alert_startup_grace_s": "No alert this long after a gateway starts (workers are coming up).",
        "alert_hold_s": "A new state must hold this long before it alerts.",
        "alert_flap_window_s": "Window in which state changes are counted for flapping.",
        "alert_flap_threshold": "This many changes in the window: one 'flapping' alert, then quiet until stable.",
        "silent_floor_per_hour": "A channel normally below this rate is never called silent.",
        "health_window_s": "Error rates are judged over this many recent seconds.",
        "health_service_grace_s": "A poller/bind down this long is failing (before: degraded).",
        "health_backlog_degraded": "Stream backlog above this is degraded.",
        "health_eval_interval_s": "How often health is evaluated for alerts.",
        "metrics_token": "Bearer token required by /metrics, and for the details of /readyz, when set.",
        "metrics_port": "Serve /metrics on this separate port (and not on the public one).",
        "metrics_host": "Address of the separate metrics listener.",
    },
    "Two-way (the core speaks to citizens)": {
        "outbound_token": "Bearer token of POST/GET /outbound/messages (the core's messages to citizens). Unset: "
                          "the outbound API answers 403.",
        "route_ttl_days": "How long each record's route (reply_to, thread, privacy) is kept for the core's messages.",
        "core_status_queue": "RQ queue that receives delivery statuses for the core.",
        "core_status_func": "Function path the core's RQ workers run for each delivery status.",
        "public_url": "Base URL at which SMS gateways and providers reach this gateway (dlr-url). Default: "
                      "http://<LAPOR_HTTP_HOST>:<LAPOR_HTTP_PORT>.",
        "sms_max_parts": "Most concatenated SMS parts per message; longer text is cut at a word and ends with the "
                         "reference.",
        "public_notice_text": "The neutral notice posted on a public-only route instead of the core's text ({ref} is "
                              "the reference).",
        "meta_human_agent": "Messenger/Instagram: send with the HUMAN_AGENT tag up to 7 days after the citizen's last "
                            "message (else failed window_closed after 24 h).",
        "outbound_per_citizen_per_hour": "Most messages to one citizen per hour; later ones wait, none is dropped.",
        "outbound_rates": "Sends per second per channel and worker process, e.g. `sms=50,email=10,twitter=0.5` "
                          "(acknowledgements and the core's messages); unlisted channels are not paced.",
        "reply_window_h": "Hours after an outbound message expecting a reply during which the citizen's next message "
                          "is linked to the record.",
    },
}


def _rows() -> list[tuple[str, str, str, str, bool, str]]:
    """(group, ENV_NAME, type, default, secret, description) for every setting, in the table's order."""
    from pydantic import SecretStr

    from config.settings import Settings

    out = []
    for group, entries in DESCRIPTIONS.items():
        for name, text in entries.items():
            f = Settings.model_fields[name]
            ann = str(f.annotation).replace("typing.", "").replace("pathlib.", "").replace("<class '", "") \
                .replace("'>", "").replace("pydantic.types.", "")
            secret = "SecretStr" in ann or f.annotation is SecretStr
            default = f.default
            if default is None:
                shown = ""
            elif isinstance(default, bool):
                shown = "true" if default else "false"
            else:
                shown = str(default)
            out.append((group, "LAPOR_" + name.upper(), ann.replace("SecretStr", "secret"), shown, secret, text))
    return out


def render_markdown() -> str:
    lines = ["# Configuration reference", "",
             "Generated from `config/settings.py` by `scripts/gen_config_reference.py` — do not edit by hand.",
             "", "Every setting is an environment variable (or a key of the YAML file named by `LAPOR_CONFIG`,",
             "with or without the `LAPOR_` prefix; the environment wins). Secrets are read only from there",
             "and never logged. Invalid values stop the start with exit code 3 and a list of what is wrong.",
             "A channel is enabled by its secrets: unset means disabled, and `/readyz`, the log and",
             "`lapor-gateway status` name the missing variable.", ""]
    group = None
    for g, env, _typ, default, secret, text in _rows():
        if g != group:
            lines += ["", f"## {g}", "", "| variable | default | secret | what it does |", "| --- | --- | --- | --- |"]
            group = g
        shown = f"`{default}`" if default != "" else "—"
        lines.append(f"| `{env}` | {shown} | {'yes' if secret else 'no'} | {text.replace('|', '/')} |")
    return "\n".join(lines).replace("\n\n\n", "\n\n") + "\n"


def render_env() -> str:
    lines = ["# lapor-gateway settings: every variable with its default (generated by",
             "# scripts/gen_config_reference.py from config/settings.py; docs/configuration.md explains them).",
             "# Copy to .env, uncomment what you change, fill the secrets of the channels you enable.",
             "# Never commit the filled file. Lines marked [secret] hold credentials."]
    group = None
    for g, env, _typ, default, secret, text in _rows():
        if g != group:
            lines += ["", f"# ---- {g} ----"]
            group = g
        lines.append(f"# {'[secret] ' if secret else ''}{text}")
        lines.append(f"#{env}={default}")
    return "\n".join(lines) + "\n"
