// Runs inside the account's page: fetch many URLs with the page's own cookies, a few at a
// time, and (for HTML) extract records with the selector map, so only data crosses back.
async ({ requests, concurrency, timeoutMs, spec, blankTexts }) => {
  const norm = (s) => (s || "").replace(/\s+/g, " ").trim();
  // Queries that also look inside open shadow roots (the modern UI's web components); on a
  // page without shadow roots they are plain querySelector/querySelectorAll.
  const qsa = (root, sel) => {
    const out = [...root.querySelectorAll(sel)];
    const walk = (node) => {
      for (const el of node.querySelectorAll("*")) {
        if (el.shadowRoot) { out.push(...el.shadowRoot.querySelectorAll(sel)); walk(el.shadowRoot); }
      }
    };
    if (root.shadowRoot) { out.push(...root.shadowRoot.querySelectorAll(sel)); walk(root.shadowRoot); }
    walk(root);
    return out;
  };
  const qs = (root, sel) => root.querySelector(sel) || qsa(root, sel)[0] || null;
  // Free text the seller or Amazon wrote keeps its inner whitespace (tabs, double spaces).
  const EXACT = new Set(["subject"]);
  const clean = (field, s) => (EXACT.has(field) ? (s || "").trim() : norm(s));
  const pick = (root, f) => {
    const els = f.selector === ":self" ? [root] : f.all ? qsa(root, f.selector) : [qs(root, f.selector)].filter(Boolean);
    const value = (el) => (f.attr ? el.getAttribute(f.attr) || "" : el.textContent || "");
    if (!els.length) return f.all ? [] : null;
    return f.all ? els.map(value) : value(els[0]);
  };
  const blankOrMissing = (doc, selector) => {
    const text = doc.body ? doc.body.textContent : "";
    if (blankTexts.some((b) => text.includes(b))) return { error: "blank", detail: blankTexts.find((b) => text.includes(b)) };
    return { error: "selector", detail: selector };
  };
  const extractList = (doc, s) => {
    const countEl = qs(doc, s.count);
    const table = qs(doc, s.table);
    if (!table || !countEl) return blankOrMissing(doc, table ? s.count : s.table);
    const headers = qsa(table, s.header).map((h) => norm(h.textContent).toLowerCase());
    const index = {};
    for (const [label, field] of Object.entries(s.columns)) {
      const i = headers.indexOf(label.toLowerCase());
      if (i >= 0) index[field] = i;
    }
    if (!("case_id" in index)) return { error: "selector", detail: `${s.header} (no Case ID column among: ${headers.join(" | ")})` };
    const rows = qsa(table, s.row).map((tr) => {
      const cells = qsa(tr, s.cell);
      const row = {};
      for (const [field, i] of Object.entries(index)) row[field] = cells[i] ? clean(field, cells[i].textContent) : null;
      const link = cells[index.case_id] && qs(cells[index.case_id], s.id_link);
      if (link) row.case_id = norm(link.textContent);
      return row;
    });
    const next = s.next ? !!qs(doc, s.next) : false;
    return { rows, countText: norm(countEl.textContent), hasNext: next };
  };
  const extractDetail = (doc, s) => {
    const summary = qs(doc, s.summary);
    if (!summary) return blankOrMissing(doc, s.summary);
    const fields = {};
    for (const [name, f] of Object.entries(s.fields)) {
      const v = pick(summary, f);
      if (v === null && f.required) return { error: "selector", detail: f.selector };
      fields[name] = Array.isArray(v) ? v.map(norm) : v === null ? null : clean(name, v);
    }
    const messages = [];
    for (const card of qsa(doc, s.message)) {
      const m = {};
      for (const [name, f] of Object.entries(s.message_fields)) {
        const v = pick(card, f);
        if (v === null && f.required) return { error: "selector", detail: `${s.message} ${f.selector}` };
        m[name] = name === "body" ? v : Array.isArray(v) ? v.map(norm) : v === null ? null : norm(v);
      }
      messages.push(m);
    }
    return { fields, messages };
  };
  const one = async (req) => {
    const ctrl = new AbortController();
    const timer = setTimeout(() => ctrl.abort(), timeoutMs);
    try {
      if (req.live) {
        // The rendered page itself (the DOM reader, after navigating and expanding).
        const data = req.kind === "list" ? extractList(document, spec) : extractDetail(document, spec);
        return { key: req.key, status: 200, url: location.href, data };
      }
      if (req.html !== undefined && req.html !== null) {
        // A saved page (offline selector tests): extract without fetching anything.
        const doc = new DOMParser().parseFromString(req.html, "text/html");
        return { key: req.key, status: 200, url: req.url, data: req.kind === "list" ? extractList(doc, spec) : extractDetail(doc, spec) };
      }
      const init = { method: req.method || "GET", credentials: "same-origin", signal: ctrl.signal, headers: req.headers || {} };
      if (req.body !== undefined && req.body !== null) init.body = req.body;
      const res = await fetch(req.url, init);
      const out = { key: req.key, status: res.status, url: res.url, retryAfter: res.headers.get("Retry-After") };
      const text = await res.text();
      if (res.status !== 200) { out.snippet = text.slice(0, 300); return out; }
      if (req.kind === "json") {
        try { out.data = JSON.parse(text); } catch (e) { out.error = "json"; out.detail = String(e); out.snippet = text.slice(0, 300); }
        return out;
      }
      const doc = new DOMParser().parseFromString(text, "text/html");
      out.data = req.kind === "list" ? extractList(doc, spec) : extractDetail(doc, spec);
      if (out.data.error) out.html = text.slice(0, 4000000); // kept for the person to inspect
      return out;
    } catch (e) {
      return { key: req.key, status: 0, error: ctrl.signal.aborted ? "timeout" : "network", detail: String(e) };
    } finally {
      clearTimeout(timer);
    }
  };
  const results = new Array(requests.length);
  let next = 0;
  const worker = async () => {
    while (next < requests.length) {
      const i = next++;
      results[i] = await one(requests[i]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, requests.length) }, worker));
  return results;
}
