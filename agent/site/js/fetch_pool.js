// Runs inside the account's page: fetch many URLs with the page's own cookies, a few at a
// time, and (for HTML) extract records with the selector map, so only data crosses back.
// Where the HTML comes from is the transport's choice ("source"): the network (the pool),
// the page as it is rendered now (the DOM reader), or saved pages (offline selector tests).
// Arguments and answer cross as JSON strings: the driver's own encoding of a deep object
// tree, validated node by node on the Python side, costs more than all the requests.
async (argJson) => {
  const { source, pages, requests, concurrency, timeoutMs, spec, blankTexts } = JSON.parse(argJson);
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
  // Text is returned exactly as the page has it (surrounding and inner whitespace, tabs,
  // line breaks); Python normalises only what it parses or matches (dates, labels, IDs).
  const exact = (s) => (s === null || s === undefined ? null : String(s));
  // One value inside its container, as the map's field says: found by label (the element
  // after the dt/th whose text is the label) and/or selector; read as text, an attribute, or
  // the whole text kept in a <template> or hidden element when the visible one is cut short.
  const textOf = (el) => (el.tagName === "TEMPLATE" ? el.content.textContent : el.textContent) || "";
  const labelled = (root, f) => {
    const wanted = norm(f.label).toLowerCase();
    const label = qsa(root, f.label_selector).find((el) => norm(el.textContent).toLowerCase() === wanted);
    return label ? label.nextElementSibling : null;
  };
  const pick = (root, f) => {
    const scope = f.label ? labelled(root, f) : root;
    if (!scope) return f.all ? [] : null;
    const els = f.selector === ":self" ? [scope] : f.all ? qsa(scope, f.selector) : [qs(scope, f.selector)].filter(Boolean);
    if (!els.length) return f.all ? [] : null;
    const full = f.full_text ? qs(root, f.full_text) : null;
    const value = (el) => (full ? textOf(full) : f.attr ? el.getAttribute(f.attr) || "" : textOf(el));
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
    for (const [field, col] of Object.entries(s.columns)) {
      const labels = (Array.isArray(col.header) ? col.header : [col.header]).map((l) => norm(l).toLowerCase());
      const i = headers.findIndex((h) => labels.includes(h));
      if (i >= 0) index[field] = i;
    }
    if (!("case_id" in index)) return { error: "selector", detail: `${s.header} (no Case ID column among: ${headers.join(" | ")})` };
    const rows = qsa(table, s.row).map((tr) => {
      const cells = qsa(tr, s.cell);
      const row = {};
      for (const [field, i] of Object.entries(index)) {
        const v = cells[i] ? pick(cells[i], s.columns[field]) : null;
        row[field] = Array.isArray(v) ? v.map(exact) : exact(v);
      }
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
      if (v === null && f.required) return { error: "selector", detail: f.label ? `${f.label_selector} "${f.label}" ${f.selector}` : f.selector };
      fields[name] = Array.isArray(v) ? v.map(exact) : exact(v);
    }
    const messages = [];
    for (const card of qsa(doc, s.message)) {
      const m = {};
      for (const [name, f] of Object.entries(s.message_fields)) {
        const v = pick(card, f);
        if (v === null && f.required) return { error: "selector", detail: `${s.message} ${f.selector}` };
        m[name] = Array.isArray(v) ? v.map(exact) : exact(v);
      }
      messages.push(m);
    }
    const older = s.older_link ? qs(doc, s.older_link) : null;
    return { fields, messages, olderHref: older ? older.getAttribute("href") : null };
  };
  // The network half of a request: fetch with the page's cookies, never leaving the origin
  // (mode "same-origin" refuses another host, a redirect to one included, before any request
  // is made). Runs in the worker or, as the fallback, in the page; returns plain data.
  async function net(req, timeoutMs) {
    const ctrl = new AbortController();
    const timer = setTimeout(() => ctrl.abort(), timeoutMs);
    try {
      const init = { method: req.method || "GET", mode: "same-origin", credentials: "same-origin", cache: "no-store", signal: ctrl.signal, headers: req.headers || {} };
      if (req.body !== undefined && req.body !== null) init.body = req.body;
      const res = await fetch(req.url, init);
      const text = await res.text();
      return { key: req.key, status: res.status, url: res.url, retryAfter: res.headers.get("Retry-After"), text };
    } catch (e) {
      return { key: req.key, status: 0, error: ctrl.signal.aborted ? "timeout" : "network", detail: String(e) };
    } finally {
      clearTimeout(timer);
    }
  }
  // The parsing half, always in the page (a worker has no DOMParser).
  const parse = (req, got) => {
    const { text, ...out } = got;
    if (out.status !== 200) { if (text !== undefined) out.snippet = text.slice(0, 300); return out; }
    if (req.kind === "json") { out.text = text; return out; } // parsed on the Python side
    const doc = new DOMParser().parseFromString(text, "text/html");
    out.data = req.kind === "list" ? extractList(doc, spec) : extractDetail(doc, spec);
    if (out.data.error) out.html = text.slice(0, 4000000); // kept for the person to inspect
    return out;
  };
  const extract = (doc, req) => (req.kind === "list" ? extractList(doc, spec) : extractDetail(doc, spec));
  const results = new Array(requests.length);
  if (source === "rendered") {
    // The rendered page itself (the DOM reader, after navigating and expanding).
    const out = requests.map((req) => ({ key: req.key, status: 200, url: location.href, data: extract(document, req) }));
    return JSON.stringify({ transport: "none", results: out });
  }
  if (source === "saved") {
    // Saved pages: extract without fetching anything.
    const out = requests.map((req) => {
      const doc = new DOMParser().parseFromString(pages[req.key], "text/html");
      return { key: req.key, status: 200, url: req.url, data: extract(doc, req) };
    });
    return JSON.stringify({ transport: "none", results: out });
  }
  const remote = requests.map((_, i) => i);
  const missing = () => remote.filter((i) => !results[i]);
  // A shared worker of this origin does the fetching when the page allows one: same cookies
  // and network stack as the page, but out of the page's devtools instrumentation, which
  // costs more than the request itself. A page whose policy forbids workers (or a browser
  // without them) fetches in the page instead; the answers are the same.
  const viaWorker = () => new Promise((resolve) => {
    let worker, url;
    try {
      const src = `${net.toString()}
        onconnect = (e) => {
          const port = e.ports[0];
          port.onmessage = async ({ data }) => {
            if (data === "close") { close(); return; } // done: the worker ends with the batch
            const { requests, concurrency, timeoutMs } = data;
            let next = 0;
            const run = async () => { while (next < requests.length) { const i = next++; port.postMessage([i, await net(requests[i], timeoutMs)]); } };
            await Promise.all(Array.from({ length: Math.min(concurrency, requests.length) }, run));
          };
          port.postMessage("ready");
        };`;
      url = URL.createObjectURL(new Blob([src], { type: "text/javascript" }));
      worker = new SharedWorker(url);
    } catch (e) {
      if (url) URL.revokeObjectURL(url);
      resolve(false);
      return;
    }
    const todo = missing();
    let left = todo.length, done = false, stall;
    const finish = (ok) => {
      if (done) return;
      done = true;
      clearTimeout(stall);
      // A shared worker lives as long as the page unless told to end.
      worker.port.postMessage("close");
      worker.port.close();
      resolve(ok);
    };
    // A worker that never starts, or goes quiet for longer than any request may take, is
    // given up on; whatever it has not answered is fetched in the page.
    stall = setTimeout(() => finish(false), 5000);
    worker.onerror = () => finish(false);
    worker.port.onmessage = ({ data }) => {
      if (done) return;
      clearTimeout(stall);
      stall = setTimeout(() => finish(false), timeoutMs + 5000);
      if (data === "ready") {
        URL.revokeObjectURL(url);
        worker.port.postMessage({ requests: todo.map((i) => requests[i]), concurrency, timeoutMs });
        return;
      }
      const [j, got] = data;
      results[todo[j]] = parse(requests[todo[j]], got);
      if (--left === 0) finish(true);
    };
  });
  const inPage = async () => {
    const todo = missing();
    let next = 0;
    const run = async () => {
      while (next < todo.length) {
        const i = todo[next++];
        results[i] = parse(requests[i], await net(requests[i], timeoutMs));
      }
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, todo.length) }, run));
  };
  let transport = "none";
  if (remote.length) {
    transport = typeof SharedWorker === "function" && (await viaWorker()) ? "worker" : "page";
    if (transport === "page") await inPage();
  }
  return JSON.stringify({ transport, results });
}
