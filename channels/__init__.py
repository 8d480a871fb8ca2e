"""Channel adapters: one package per channel (api, sms, meta, twitter, telegram, email); see docs/architecture.md."""
