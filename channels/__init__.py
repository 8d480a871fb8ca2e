"""Channel adapters: one package per provider family (sms, twitter, meta, telegram, email, http)."""
