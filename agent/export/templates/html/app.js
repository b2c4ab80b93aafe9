(function () {
  "use strict";
  // Rows come from the JSON block above; everything is put on the page with textContent only.
  var raw = JSON.parse(document.getElementById("caselog-data").textContent);
  var F = raw.fields;
  var FINAL = { RESOLVED: 1, CLOSED: 1 };
  var WORD = /[^\p{L}\p{N}_]+/u;
  var rows = raw.rows.map(function (r) {
    var o = {};
    for (var i = 0; i < F.length; i++) o[F[i]] = r[i];
    o.hay = (o.id + " " + o.subject + " " + o.statusText + " " + o.text).toLowerCase();
    o.words = o.text;  // the case's distinct words, in the order they first appear
    o.text = null;
    return o;
  });
  raw = null;
  var multi = !!document.getElementById("account");
  var $ = function (id) { return document.getElementById(id); };
  var state = { q: "", status: "", category: "", account: "", sort: "days", dir: "desc", page: 0, size: 100 };
  var sorters = {
    id: function (a, b) { return a.id.length - b.id.length || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0); },
    subject: textOrder("subject"),
    status: textOrder("statusText"),
    category: textOrder("category"),
    created: numOrder("created"),
    reply: numOrder("reply"),
    turn: textOrder("turn"),
    days: numOrder("days"),
    flags: textOrder("flags"),
    msgs: numOrder("msgs"),
    account: textOrder("account")
  };
  var collator = new Intl.Collator(undefined, { sensitivity: "base", numeric: true });
  function textOrder(k) { return function (a, b) { return collator.compare(a[k], b[k]); }; }
  function numOrder(k) {
    return function (a, b) { return a[k] - b[k]; };  // nulls are put last in recompute()
  }

  function terms(q) {
    return q.toLowerCase().split(WORD).filter(function (t) { return t.length > 0; });
  }
  function matches(r, ts) {
    if (state.status === "open" ? FINAL[r.status] : state.status && r.status !== state.status) return false;
    if (state.category && r.category !== state.category) return false;
    if (state.account && r.account !== state.account) return false;
    for (var i = 0; i < ts.length; i++) if (r.hay.indexOf(ts[i]) < 0) return false;
    return true;
  }

  var view = rows;
  function recompute() {
    var ts = terms(state.q);
    view = rows.filter(function (r) { return matches(r, ts); });
    var cmp = sorters[state.sort] || sorters.days, k = state.sort, sign = state.dir === "asc" ? 1 : -1;
    view.sort(function (a, b) {
      if (a[k] === null && b[k] !== null) return 1;
      if (b[k] === null && a[k] !== null) return -1;
      return sign * cmp(a, b) || (a.id < b.id ? -1 : 1);
    });
  }

  // Where a search matched the messages: the words around the first match, the match marked.
  function snippet(r, ts) {
    if (!ts.length || r.subject.toLowerCase().indexOf(ts[0]) >= 0) return null;
    var at = r.words.indexOf(ts[0]);
    if (at < 0) return null;
    var lo = Math.max(0, r.words.lastIndexOf(" ", Math.max(0, at - 60)));
    var hi = r.words.indexOf(" ", Math.min(r.words.length, at + ts[0].length + 60));
    if (hi < 0) hi = r.words.length;
    var div = document.createElement("div");
    div.className = "snippet";
    div.appendChild(document.createTextNode((lo > 0 ? "\u2026" : "") + r.words.slice(lo, at)));
    var mark = document.createElement("mark");
    mark.textContent = r.words.slice(at, at + ts[0].length);
    div.appendChild(mark);
    div.appendChild(document.createTextNode(r.words.slice(at + ts[0].length, hi) + (hi < r.words.length ? "\u2026" : "")));
    return div;
  }

  function cell(tr, text, cls, dir) {
    var td = document.createElement("td");
    td.textContent = text === null || text === undefined ? "" : String(text);
    if (cls) td.className = cls;
    if (dir) td.dir = "auto";
    tr.appendChild(td);
    return td;
  }

  function render() {
    var pages = Math.max(1, Math.ceil(view.length / state.size));
    if (state.page >= pages) state.page = pages - 1;
    if (state.page < 0) state.page = 0;
    var start = state.page * state.size, end = Math.min(view.length, start + state.size);
    var frag = document.createDocumentFragment();
    for (var i = start; i < end; i++) {
      var r = view[i], tr = document.createElement("tr");
      var td = document.createElement("td"), a = document.createElement("a");
      if (/^[0-9]+$/.test(r.id)) a.href = "cases/" + r.id + ".html";
      a.textContent = r.id;
      td.appendChild(a);
      tr.appendChild(td);
      var subj = cell(tr, r.subject, "subject", true);
      var snip = snippet(r, terms(state.q));
      if (snip) subj.appendChild(snip);
      var st = cell(tr, "", "status");
      var badge = document.createElement("span");
      badge.className = "badge s-" + r.status;
      badge.textContent = r.statusText;
      st.appendChild(badge);
      cell(tr, r.category);
      cell(tr, r.createdText, "date");
      cell(tr, r.replyText, "date");
      cell(tr, r.turn);
      cell(tr, r.days, "num");
      cell(tr, r.flags);
      cell(tr, r.msgs, "num");
      if (multi) cell(tr, r.account, null, true);
      frag.appendChild(tr);
    }
    if (end === start) {
      var empty = document.createElement("tr");
      var etd = cell(empty, "No cases match.", "muted");
      etd.colSpan = multi ? 11 : 10;
      frag.appendChild(empty);
    }
    var body = $("rows");
    body.textContent = "";
    body.appendChild(frag);
    var total = rows.length;
    $("count").textContent = view.length === 0 ? "No cases match (of " + total.toLocaleString() + ")." :
      "Showing " + (start + 1).toLocaleString() + "\u2013" + end.toLocaleString() + " of " +
      view.length.toLocaleString() + (view.length === total ? " cases." : " matching cases (of " + total.toLocaleString() + ").");
    $("page").textContent = "Page " + (state.page + 1) + " of " + pages;
    $("prev").disabled = state.page === 0;
    $("next").disabled = state.page >= pages - 1;
    var ths = document.querySelectorAll("#cases th[data-key]");
    for (var j = 0; j < ths.length; j++) {
      var th = ths[j];
      if (th.dataset.key === state.sort) th.setAttribute("aria-sort", state.dir === "asc" ? "ascending" : "descending");
      else th.removeAttribute("aria-sort");
    }
    saveHash();
  }

  function update() { recompute(); render(); }

  function saveHash() {
    var p = new URLSearchParams();
    ["q", "status", "category", "account"].forEach(function (k) { if (state[k]) p.set(k, state[k]); });
    if (state.sort !== "days" || state.dir !== "desc") { p.set("sort", state.sort); p.set("dir", state.dir); }
    if (state.page) p.set("page", String(state.page + 1));
    if (state.size !== 100) p.set("size", String(state.size));
    var h = p.toString();
    try { history.replaceState(null, "", h ? "#" + h : location.pathname + location.search); } catch (e) { /* file:// quirks */ }
  }
  function loadHash() {
    var p = new URLSearchParams(location.hash.slice(1));
    ["q", "status", "category", "account"].forEach(function (k) { state[k] = p.get(k) || ""; });
    if (sorters[p.get("sort")]) state.sort = p.get("sort");
    if (p.get("dir") === "asc" || p.get("dir") === "desc") state.dir = p.get("dir");
    var size = parseInt(p.get("size"), 10);
    if ([50, 100, 500].indexOf(size) >= 0) state.size = size;
    state.page = Math.max(0, (parseInt(p.get("page"), 10) || 1) - 1);
    $("q").value = state.q;
    $("status").value = state.status;
    $("category").value = state.category;
    if (multi) $("account").value = state.account;
    $("size").value = String(state.size);
  }

  var timer = null;
  $("q").addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(function () { state.q = $("q").value; state.page = 0; update(); }, 120);
  });
  ["status", "category", "account"].forEach(function (k) {
    var el = $(k);
    if (el) el.addEventListener("change", function () { state[k] = el.value; state.page = 0; update(); });
  });
  $("size").addEventListener("change", function () { state.size = parseInt($("size").value, 10) || 100; state.page = 0; render(); });
  $("controls").addEventListener("submit", function (e) { e.preventDefault(); clearTimeout(timer); state.q = $("q").value; state.page = 0; update(); });
  $("controls").addEventListener("reset", function () {
    setTimeout(function () {
      state.q = state.status = state.category = state.account = "";
      state.page = 0;
      update();
    }, 0);
  });
  $("prev").addEventListener("click", function () { state.page -= 1; render(); });
  $("next").addEventListener("click", function () { state.page += 1; render(); });
  document.querySelector("#cases thead").addEventListener("click", function (e) {
    var th = e.target.closest("th[data-key]");
    if (!th) return;
    var k = th.dataset.key;
    if (state.sort === k) state.dir = state.dir === "asc" ? "desc" : "asc";
    else { state.sort = k; state.dir = (k === "created" || k === "reply" || k === "days" || k === "msgs") ? "desc" : "asc"; }
    state.page = 0;
    update();
  });
  document.addEventListener("keydown", function (e) {
    if (e.key === "/" && document.activeElement !== $("q")) { e.preventDefault(); $("q").focus(); }
  });

  // Copy a draft: the clipboard API where the page may use it, else a selection and copy.
  document.addEventListener("click", function (e) {
    var btn = e.target.closest ? e.target.closest("button.copy") : null;
    if (!btn) return;
    var pre = document.getElementById(btn.dataset.copy);
    if (!pre) return;
    var text = pre.textContent;
    function done(ok) { btn.textContent = ok ? "Copied" : "Select and copy"; btn.dataset.copied = ok ? "1" : "0"; }
    function fallback() {
      var range = document.createRange();
      range.selectNodeContents(pre);
      var sel = window.getSelection();
      sel.removeAllRanges();
      sel.addRange(range);
      var ok = false;
      try { ok = document.execCommand("copy"); } catch (err) { ok = false; }
      done(ok);
    }
    if (navigator.clipboard && navigator.clipboard.writeText) {
      navigator.clipboard.writeText(text).then(function () { done(true); }, fallback);
    } else {
      fallback();
    }
  });

  loadHash();
  update();
  document.body.dataset.ready = "1";
})();
