/* LAPOR! gateway admin dashboard: polls /admin/api/health and renders it (no external assets). */
(function () {
  "use strict";
  var POLL_MS = 3000;
  var csrf = document.querySelector('meta[name="csrf"]').getAttribute("content");
  // key: [Indonesian, English]
  var WORDS = {
    title: ["Kesehatan kanal", "Channel health"], channels: ["Kanal", "Channels"],
    pipeline: ["Alur pemrosesan", "Pipeline"], dead: ["Surat mati (dead letters)", "Dead letters"],
    dead_empty: ["Tidak ada.", "None."], time: ["Waktu", "Time"], channel: ["Kanal", "Channel"],
    error: ["Galat", "Error"], attempts: ["Percobaan", "Attempts"], log: ["Log kanal", "Channel log"],
    path: ["Path", "Path"], result: ["Hasil", "Result"], alerts: ["Peringatan terkirim", "Alerts sent"],
    logout: ["Keluar", "Sign out"], replay: ["Putar ulang", "Replay"], replayed: ["diputar ulang", "replayed"],
    last_msg: ["Pesan terakhir", "Last message"], never: ["belum ada", "none yet"], ago: ["lalu", "ago"],
    updated: ["Diperbarui", "Updated"], offline: ["Tidak terhubung ke gateway", "Cannot reach the gateway"],
    vol24: ["Volume 24 jam", "Volume 24 h"], ok: ["normal", "ok"], degraded: ["terganggu", "degraded"],
    failing: ["gagal", "failing"], silent: ["senyap", "silent"], disabled: ["nonaktif", "disabled"],
    received: ["diterima", "received"], stored: ["disimpan", "stored"], duplicate: ["duplikat", "duplicates"],
    rejected_auth: ["ditolak (auth)", "rejected (auth)"],
    rejected_invalid: ["ditolak (invalid)", "rejected (invalid)"], errors: ["galat", "errors"],
    skipped: ["dilewati", "skipped"], spooled: ["spool", "spooled"],
    stream_length: ["Panjang stream", "Stream length"], stream_backlog: ["Antrean stream", "Stream backlog"],
    pending: ["Sedang diproses", "Pending"], dead_letters: ["Surat mati", "Dead letters"],
    core_queue_depth: ["Antrean core", "Core queue"], outbound_queue: ["Antrean balasan", "Ack queue"],
    outbound_retry: ["Balasan diulang", "Ack retries"], outbound_dead: ["Balasan gagal", "Acks failed"],
    workers_alive: ["Worker hidup", "Workers alive"], quarantined: ["Dikarantina", "Quarantined"],
    spool_pending: ["Spool lokal", "Local spool"], redis_up: ["Redis hidup", "Redis up"],
    none: ["Tidak ada.", "None."],
    outbound: ["Pesan ke warga (balasan core)", "Messages to citizens (core)"], out_sent: ["Terkirim", "Sent"],
    out_delivered: ["Sampai", "Delivered"], out_failed: ["Gagal", "Failed"],
    out_window_closed: ["Jendela tertutup", "Window closed"],
    out_dead: ["Pesan gagal (dead letters)", "Failed messages (dead letters)"],
    outbound_backlog: ["Antrean pesan", "Outbound backlog"], outbound_in_flight: ["Sedang dikirim", "Being sent"],
    outbound_later: ["Menunggu ulang", "Waiting to retry"], gateways_alive: ["Gateway hidup", "Gateways alive"]
  };
  var LANGS = ["id", "en"];
  var lang = localStorage.getItem("lapor-admin-lang") || "id";
  var last = null;

  function t(k) { var i = LANGS.indexOf(lang); return (WORDS[k] && i >= 0 && WORDS[k][i]) || k; }
  function el(tag, attrs, text) {
    var e = document.createElement(tag);
    if (attrs) { Object.keys(attrs).forEach(function (k) { e.setAttribute(k, attrs[k]); }); }
    if (text !== undefined && text !== null) { e.textContent = String(text); }
    return e;
  }
  function ago(ts) {
    if (!ts) { return t("never"); }
    var s = Math.max(0, Date.now() / 1000 - ts);
    var txt = s < 90 ? Math.round(s) + " s" : s < 5400 ? Math.round(s / 60) + " min" : Math.round(s / 3600) + " h";
    return txt + " " + t("ago");
  }
  function fmtTime(ts) { return ts ? new Date(ts * 1000).toLocaleString(lang === "id" ? "id-ID" : "en-GB") : ""; }

  function sparkline(values) {
    var ns = "http://www.w3.org/2000/svg", w = 240, h = 40;
    var svg = document.createElementNS(ns, "svg");
    svg.setAttribute("viewBox", "0 0 " + w + " " + h); svg.setAttribute("class", "spark");
    svg.setAttribute("preserveAspectRatio", "none"); svg.setAttribute("role", "img");
    svg.setAttribute("aria-label", t("vol24") + ": " + values.join(", "));
    var max = Math.max.apply(null, values.concat([1])), step = w / Math.max(1, values.length - 1);
    var bg = document.createElementNS(ns, "rect");
    bg.setAttribute("x", 0); bg.setAttribute("y", 0); bg.setAttribute("width", w); bg.setAttribute("height", h);
    svg.appendChild(bg);
    var pts = values.map(function (v, i) { return (i * step).toFixed(1) + "," + (h - 2 - (v / max) * (h - 4)).toFixed(1); });
    var line = document.createElementNS(ns, "polyline");
    line.setAttribute("points", pts.join(" ")); svg.appendChild(line);
    return svg;
  }

  function sum(obj, prefix) {
    var n = 0; Object.keys(obj || {}).forEach(function (k) { if (k.indexOf(prefix) === 0) { n += obj[k]; } }); return n;
  }

  function card(c) {
    var d = el("article", { "class": "card", "data-state": c.state, "data-channel": c.channel, id: "card-" + c.channel });
    var h = el("h3"); h.appendChild(el("span", null, c.channel));
    h.appendChild(el("span", { "class": "badge state", "data-state": c.state }, t(c.state)));
    d.appendChild(h);
    d.appendChild(el("p", { "class": "reason" }, lang === "id" ? c.reason_id : c.reason));
    d.appendChild(el("p", { "class": "reason last" }, t("last_msg") + ": " + ago(c.last_message_at)));
    d.appendChild(sparkline(c.volume_24h || []));
    var kv = el("div", { "class": "kv" }), day = c.day || {};
    [["received", day.received || 0], ["stored", day.stored || 0], ["duplicate", day.duplicate || 0],
     ["rejected_auth", day.rejected_auth || 0], ["rejected_invalid", day.rejected_invalid || 0],
     ["errors", (day.error || 0) + (day.quarantined || 0)], ["skipped", sum(day, "skipped_")],
     ["spooled", day.spooled || 0]].forEach(function (p) {
      var box = el("div", { "data-count": p[0] }); box.appendChild(el("b", { "class": "count-" + p[0] }, p[1]));
      box.appendChild(document.createTextNode(t(p[0]))); kv.appendChild(box);
    });
    d.appendChild(kv);
    if (c.services && c.services.length) {
      var ul = el("ul", { "class": "svc" });
      c.services.forEach(function (s) {
        ul.appendChild(el("li", null, s.name + ": " + s.state + (s.last_error ? " — " + s.last_error : "")));
      });
      d.appendChild(ul);
    }
    return d;
  }

  function render(doc) {
    last = doc;
    var ov = document.getElementById("overall");
    ov.textContent = t(doc.status); ov.setAttribute("data-state", doc.status);
    var cards = document.getElementById("cards"); cards.textContent = "";
    doc.channels.forEach(function (c) { cards.appendChild(card(c)); });
    var p = doc.pipeline, ps = document.getElementById("pipeline-state"); ps.textContent = "";
    ps.appendChild(el("span", { "class": "badge", "data-state": p.state, id: "pipeline-badge" }, t(p.state)));
    ps.appendChild(document.createTextNode(" " + (lang === "id" ? p.reason_id : p.reason)));
    var dl = document.getElementById("pipeline"); dl.textContent = "";
    Object.keys(p.numbers || {}).forEach(function (k) {
      var box = el("div", { id: "num-" + k }); box.appendChild(el("dt", null, t(k))); box.appendChild(el("dd", null, p.numbers[k]));
      dl.appendChild(box);
    });
    var tb = document.querySelector("#dead tbody"); tb.textContent = "";
    document.getElementById("dead-empty").style.display = doc.dead_letters.length ? "none" : "";
    doc.dead_letters.forEach(function (x) {
      var tr = el("tr", { "data-dead-id": x.dead_id });
      var at = /^[0-9.]+$/.test(x.at) ? parseFloat(x.at) : Date.parse(x.at) / 1000;
      tr.appendChild(el("td", null, isNaN(at) ? x.at : fmtTime(at))); tr.appendChild(el("td", null, x.channel));
      tr.appendChild(el("td", null, x.error)); tr.appendChild(el("td", null, x.attempts));
      var td = el("td"), b = el("button", { type: "button", "class": "replay", "data-id": x.dead_id }, t("replay"));
      b.addEventListener("click", function () { replay(x.dead_id, b); });
      td.appendChild(b); tr.appendChild(td); tb.appendChild(tr);
    });
    renderOutbound(doc.outbound || { queue: {}, channels: {}, dead_letters: [] });
    var al = document.getElementById("alerts"); al.textContent = "";
    if (!doc.alerts.length) { al.appendChild(el("li", { "class": "muted" }, t("none"))); }
    doc.alerts.forEach(function (a) {
      al.appendChild(el("li", null, fmtTime(a.at) + " — " + a.component + ": " + (a.previous || "?") + " → " + a.state +
        " — " + (lang === "id" ? a.reason_id : a.reason)));
    });
    var sel = document.getElementById("log-channel");
    if (!sel.options.length) {
      doc.channels.forEach(function (c) { sel.appendChild(el("option", { value: c.channel }, c.channel)); });
    }
    var up = document.getElementById("updated");
    up.className = "muted"; up.textContent = t("updated") + ": " + fmtTime(doc.generated_at);
  }

  function renderOutbound(o) {
    var q = document.getElementById("outbound-queue"); q.textContent = "";
    Object.keys(o.queue || {}).forEach(function (k) {
      var box = el("div", { id: "out-" + k }); box.appendChild(el("dt", null, t(k === "dead_letters" ? "out_dead" : k)));
      box.appendChild(el("dd", null, o.queue[k])); q.appendChild(box);
    });
    var tb = document.querySelector("#outbound tbody"); tb.textContent = "";
    Object.keys(o.channels || {}).forEach(function (ch) {
      var c = o.channels[ch], tr = el("tr", { "data-out-channel": ch });
      tr.appendChild(el("td", null, ch));
      ["sent", "delivered", "failed", "window_closed"].forEach(function (k) {
        tr.appendChild(el("td", { "class": "out-" + k }, c[k] || 0));
      });
      tb.appendChild(tr);
    });
    var db = document.querySelector("#outbound-dead tbody"); db.textContent = "";
    document.getElementById("outbound-dead-empty").style.display = o.dead_letters.length ? "none" : "";
    o.dead_letters.forEach(function (x) {
      var tr = el("tr", { "data-out-dead-id": x.dead_id });
      tr.appendChild(el("td", null, x.at)); tr.appendChild(el("td", null, x.id)); tr.appendChild(el("td", null, x.channel));
      tr.appendChild(el("td", null, x.error)); tr.appendChild(el("td", null, x.attempts));
      var td = el("td"), b = el("button", { type: "button", "class": "out-replay", "data-id": x.dead_id }, t("replay"));
      b.addEventListener("click", function () { replayOutbound(x.dead_id, b); });
      td.appendChild(b); tr.appendChild(td); db.appendChild(tr);
    });
  }

  function replayOutbound(id, button) {
    button.disabled = true;
    api("/admin/api/outbound/replay", { method: "POST", headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
      body: JSON.stringify({ ids: [id] }) }).then(function (doc) {
      document.getElementById("outbound-replay-result").textContent = doc.replayed + " " + t("replayed") + " (" +
        doc.ids.join(", ") + ")";
      var row = document.querySelector('tr[data-out-dead-id="' + id + '"]'); if (row) { row.remove(); }
      if (last && last.outbound) {
        last.outbound.dead_letters = last.outbound.dead_letters.filter(function (x) { return x.dead_id !== id; });
      }
    }).catch(function (e) {
      button.disabled = false; document.getElementById("outbound-replay-result").textContent = String(e.message);
    });
  }

  function api(path, opts) {
    opts = opts || {}; opts.credentials = "same-origin";
    opts.headers = Object.assign({ "Accept": "application/json" }, opts.headers || {});
    return fetch(path, opts).then(function (r) {
      if (r.status === 401) { window.location.href = "/admin/login"; throw new Error("auth"); }
      return r.json().then(function (j) { if (!r.ok) { throw new Error(j.error || r.status); } return j; });
    });
  }

  function poll() {
    api("/admin/api/health").then(render).then(loadLog).catch(function (e) {
      if (e.message === "auth") { return; }
      var up = document.getElementById("updated"); up.className = "muted offline"; up.textContent = t("offline");
    }).then(function () { setTimeout(poll, POLL_MS); });
  }

  function loadLog() {
    var ch = document.getElementById("log-channel").value;
    if (!ch) { return; }
    return api("/admin/api/channels/" + encodeURIComponent(ch) + "/log?limit=30").then(function (doc) {
      var tb = document.querySelector("#log tbody"); tb.textContent = "";
      doc.entries.forEach(function (e) {
        var res = ["stored", "duplicates", "spooled"].filter(function (k) { return e[k]; })
          .map(function (k) { return k + "=" + e[k]; }).join(" ");
        var tr = el("tr");
        [fmtTime(e.t), e.status, e.ms, e.method + " " + e.path, res, e.error || ""].forEach(function (v) {
          tr.appendChild(el("td", null, v));
        });
        tb.appendChild(tr);
      });
    });
  }

  function replay(id, button) {
    button.disabled = true;
    api("/admin/api/dead/replay", { method: "POST", headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
      body: JSON.stringify({ ids: [id] }) }).then(function (doc) {
      document.getElementById("replay-result").textContent = doc.replayed + " " + t("replayed") + " (" + id + ")";
      var row = document.querySelector('tr[data-dead-id="' + id + '"]'); if (row) { row.remove(); }
      if (last) { last.dead_letters = last.dead_letters.filter(function (x) { return x.dead_id !== id; }); }
    }).catch(function (e) {
      button.disabled = false; document.getElementById("replay-result").textContent = String(e.message);
    });
  }

  function applyLang() {
    document.documentElement.lang = lang;
    document.getElementById("lang").textContent = lang === "id" ? "EN" : "ID";
    document.querySelectorAll("[data-i18n]").forEach(function (e) { e.textContent = t(e.getAttribute("data-i18n")); });
    if (last) { render(last); }
  }

  document.getElementById("lang").addEventListener("click", function () {
    lang = lang === "id" ? "en" : "id"; localStorage.setItem("lapor-admin-lang", lang); applyLang();
  });
  document.getElementById("log-channel").addEventListener("change", loadLog);
  applyLang();
  poll();
})();
