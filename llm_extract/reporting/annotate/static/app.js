/* llm-extract annotate: the page. Vanilla JS, no build step, nothing from the network but
   the app's own JSON API (see app.py). Report text, evidence and every value from the data
   are inserted as text nodes or form values, never as HTML. Offsets exchanged with the API
   are in code points (Python's); the DOM counts UTF-16 units, converted here. */
(function () {
  "use strict";

  var TOKEN = new URLSearchParams(window.location.search).get("token") || "";
  var KEY_CATEGORY = { "1": "convoys", "2": "drills", "3": "strikes", "4": "arrests" };
  var STATUS = { todo: "to do", in_progress: "in progress", done: "done", read_only: "read-only" };
  var DECISION = { pending: "to review", accepted: "accepted", rejected: "rejected" };
  var NAV_KEYS = ["ArrowLeft", "ArrowRight", "ArrowUp", "ArrowDown", "Home", "End", "PageUp", "PageDown"];
  var S = {
    schema: null,
    list: null,
    current: null,
    reportId: null,
    active: null,
    editor: null,
    chooser: null,
    lastSelection: null,
    map: null,
    find: { query: "", matches: [], at: -1, timer: null },
    chain: Promise.resolve(),
    busy: 0
  };

  // --- helpers ----------------------------------------------------------------------------

  function $(id) { return document.getElementById(id); }

  function el(tag, attrs, kids) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (name) {
      var value = attrs[name];
      if (value === null || value === undefined || value === false) { return; }
      if (name === "text") { node.textContent = String(value); }
      else if (name === "class") { node.className = value; }
      else if (name.slice(0, 2) === "on") { node.addEventListener(name.slice(2), value); }
      else { node.setAttribute(name, value === true ? "" : String(value)); }
    });
    (kids || []).forEach(function (kid) {
      if (kid === null || kid === undefined) { return; }
      node.appendChild(typeof kid === "string" ? document.createTextNode(kid) : kid);
    });
    return node;
  }

  function kbd(key) { return el("kbd", { text: key }); }
  function clone(value) { return value === undefined ? undefined : JSON.parse(JSON.stringify(value)); }
  function same(a, b) { return JSON.stringify(a) === JSON.stringify(b); }
  function enc(id) { return encodeURIComponent(id); }

  function message(text, kind) {
    var box = $("message");
    box.textContent = text || "";
    box.className = kind || "";
  }

  function setBusy(delta) {
    S.busy += delta;
    document.documentElement.setAttribute("data-busy", S.busy > 0 ? "1" : "0");
  }

  /* Every action runs after the previous one: saves never race each other. */
  function enqueue(task) {
    setBusy(1);
    S.chain = S.chain.then(task).catch(function (error) {
      message(String((error && error.message) || error), "error");
    }).then(function () { setBusy(-1); });
    return S.chain;
  }

  async function api(method, path, body) {
    var init = { method: method, headers: { "X-Annotate-Token": TOKEN } };
    if (body !== undefined) {
      init.headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    var response;
    try {
      response = await fetch(path, init);
    } catch (error) {
      return { ok: false, status: 0, data: { error: "network", message: "The annotate server does not answer (was it stopped?)." } };
    }
    var data;
    try { data = await response.json(); } catch (error) { data = { error: "bad_answer", message: "HTTP " + response.status }; }
    return { ok: response.ok, status: response.status, data: data };
  }

  function failed(res) {
    var text = (res.data && res.data.message) || ("HTTP " + res.status);
    if (res.status === 403) { text = "The server refused this page (" + text + "): open the URL that llm-extract annotate printed."; }
    if (res.status === 409 && res.data.error === "conflict") { text += " Press R to reload."; }
    message(text, "error");
  }

  // --- offsets: code points (API) and UTF-16 units (DOM) ------------------------------------

  function offsetMap(text) {
    if (!/[\uD800-\uDFFF]/.test(text)) { return null; }
    var map = [];
    var unit = 0;
    for (var ch of text) { map.push(unit); unit += ch.length; }
    map.push(unit);
    return map;
  }

  function toUnits(cp) { return S.map ? S.map[Math.min(cp, S.map.length - 1)] : cp; }

  function toPoints(unit) {
    if (!S.map) { return unit; }
    var lo = 0;
    var hi = S.map.length - 1;
    while (lo < hi) {
      var mid = (lo + hi + 1) >> 1;
      if (S.map[mid] <= unit) { lo = mid; } else { hi = mid - 1; }
    }
    return lo;
  }

  function unitsBefore(root, node, offset) {
    var range = document.createRange();
    range.setStart(root, 0);
    range.setEnd(node, offset);
    return range.toString().length;
  }

  function locate(root, offset) {
    var walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
    var seen = 0;
    var last = null;
    var node;
    while ((node = walker.nextNode())) {
      if (offset <= seen + node.data.length) { return { node: node, offset: offset - seen }; }
      seen += node.data.length;
      last = node;
    }
    return last ? { node: last, offset: last.data.length } : { node: root, offset: 0 };
  }

  function rangeOf(startUnit, endUnit) {
    var box = $("text");
    var a = locate(box, startUnit);
    var b = locate(box, endUnit);
    var range = document.createRange();
    range.setStart(a.node, a.offset);
    range.setEnd(b.node, b.offset);
    return range;
  }

  /* The text selection inside the report as {start, end, text} (code points), trimmed of
     white space; null when there is none. */
  function currentSelection() {
    var text = S.current && S.current.text;
    var box = $("text");
    var sel = window.getSelection();
    if (!text || !sel || sel.rangeCount === 0 || sel.isCollapsed) { return null; }
    var range = sel.getRangeAt(0);
    if (!box.contains(range.startContainer) || !box.contains(range.endContainer)) { return null; }
    var a = unitsBefore(box, range.startContainer, range.startOffset);
    var b = unitsBefore(box, range.endContainer, range.endOffset);
    var start = Math.min(a, b);
    var end = Math.max(a, b);
    while (start < end && /\s/.test(text[start])) { start += 1; }
    while (end > start && /\s/.test(text[end - 1])) { end -= 1; }
    if (start >= end) { return null; }
    return { start: toPoints(start), end: toPoints(end), text: text.slice(start, end) };
  }

  function selection() { return currentSelection() || S.lastSelection; }

  function selectPoints(start, end) {
    var box = $("text");
    box.focus({ preventScroll: true });
    var range = rangeOf(toUnits(start), toUnits(end));
    var sel = window.getSelection();
    sel.removeAllRanges();
    sel.addRange(range);
    var anchor = range.startContainer.parentElement || box;
    anchor.scrollIntoView({ block: "center" });
    S.lastSelection = currentSelection();
  }

  // --- state --------------------------------------------------------------------------------

  function draft() { return S.current && S.current.draft; }
  function records() { return draft() ? draft().records : []; }
  function recordByUid(uid) { return records().find(function (r) { return r.uid === uid; }) || null; }
  function readOnly() { return !S.current || S.current.read_only || !draft(); }

  function nextRecord(uid, step) {
    var list = records();
    if (!list.length) { return null; }
    var at = list.findIndex(function (r) { return r.uid === uid; });
    if (at < 0) { return list[0].uid; }
    return list[Math.max(0, Math.min(list.length - 1, at + step))].uid;
  }

  function nextPending(uid) {
    var list = records();
    var at = list.findIndex(function (r) { return r.uid === uid; });
    for (var i = 1; i <= list.length; i += 1) {
      var candidate = list[(at + i) % list.length];
      if (candidate.decision === "pending" && candidate.uid !== uid) { return candidate.uid; }
    }
    return null;
  }

  function firstPending() {
    var pending = records().find(function (r) { return r.decision === "pending"; });
    return pending ? pending.uid : (records()[0] ? records()[0].uid : null);
  }

  function body(list, report) {
    var d = draft();
    return {
      version: d.version,
      gold_sha256: d.gold_sha256,
      coalition_month: report ? report.coalition_month : d.coalition_month,
      stated_totals: report ? report.stated_totals : d.stated_totals,
      records: list.map(function (r) {
        return { uid: r.uid, category: r.category, decision: r.decision, data: r.data };
      })
    };
  }

  async function putDraft(list, report) {
    return api("PUT", "/api/reports/" + enc(S.reportId) + "/draft", body(list, report));
  }

  function setCurrent(payload, fresh) {
    S.current = payload;
    S.map = offsetMap(payload.text || "");
    if (fresh || !recordByUid(S.active)) { S.active = firstPending(); }
    updateListEntry(payload.report);
    render();
  }

  function updateListEntry(entry) {
    if (!S.list || !entry) { return; }
    var at = S.list.reports.findIndex(function (r) { return r.report_id === entry.report_id; });
    if (at >= 0) {
      S.list.reports[at] = entry;
      var counts = { todo: 0, in_progress: 0, done: 0, read_only: 0 };
      S.list.reports.forEach(function (r) { counts[r.status] += 1; });
      Object.assign(S.list.progress, counts);
    }
  }

  // --- loading ------------------------------------------------------------------------------

  async function refreshList() {
    var res = await api("GET", "/api/reports");
    if (!res.ok) { failed(res); return false; }
    S.list = res.data;
    renderList();
    return true;
  }

  async function openReport(reportId, keepMessage) {
    var res = await api("GET", "/api/reports/" + enc(reportId));
    if (!res.ok) { unopened(reportId, res); return; }
    if (!keepMessage) { message(""); }
    S.reportId = reportId;
    S.editor = null;
    S.chooser = null;
    S.lastSelection = null;
    S.find.matches = [];
    S.find.at = -1;
    S.find.query = "";
    $("find").value = "";
    setCurrent(res.data, true);
    history.replaceState(null, "", window.location.pathname + window.location.search + "#r=" + enc(reportId));
    $("records").scrollTop = 0;
    $("text").scrollTop = 0;
  }

  /* A report that could not be opened: nothing of the previous report stays on screen
     (its title, text or records would be taken for this one's); R tries again. */
  function unopened(reportId, res) {
    failed(res);
    S.current = null;
    S.reportId = reportId;
    S.active = null;
    S.editor = null;
    S.chooser = null;
    S.lastSelection = null;
    S.map = null;
    $("report").hidden = true;
    $("empty").hidden = false;
    $("empty").textContent = "Could not open " + reportId + ": " +
      ((res.data && res.data.message) || ("HTTP " + res.status)) + " (R tries again).";
    if (S.list) { renderList(); }
  }

  /* The next report (step 1) or the previous one (-1), wrapping; with statuses, the next
     one whose status is among them. */
  function neighbour(step, statuses) {
    var all = S.list.reports;
    var n = all.length;
    var at = all.findIndex(function (r) { return r.report_id === S.reportId; });
    for (var i = 1; i < n; i += 1) {
      var entry = all[(((at + step * i) % n) + n) % n];
      if (!statuses || statuses.indexOf(entry.status) >= 0) { return entry.report_id; }
    }
    return null;
  }

  // --- rendering ----------------------------------------------------------------------------

  function render() {
    renderList();
    $("empty").hidden = true;
    $("report").hidden = false;
    renderHead();
    renderText();
    renderRecords();
    renderChooser();
    renderActions();
    paintFind();
  }

  function renderList() {
    var list = $("report-list");
    list.replaceChildren();
    S.list.reports.forEach(function (r) {
      var detail = r.records + (r.records === 1 ? " record" : " records") + (r.pending ? ", " + r.pending + " to review" : "");
      list.appendChild(el("li", {
        "data-testid": "report-item", "data-report-id": r.report_id, "data-status": r.status,
        class: r.report_id === S.reportId ? "active" : ""
      }, [el("button", {
        type: "button", onclick: function () { enqueue(function () { return openReport(r.report_id); }); }
      }, [
        el("span", { class: "rid", text: r.report_id }),
        el("span", { class: "badge st-" + r.status, text: STATUS[r.status] }),
        el("span", { class: "small muted", text: detail })
      ])]));
    });
    var p = S.list.progress;
    $("progress").textContent = p.done + " of " + p.total + " reports done · " + p.in_progress +
      " in progress · " + p.todo + " to do" + (p.read_only ? " · " + p.read_only + " read-only" : "");
    $("progress-bar").max = Math.max(1, p.total);
    $("progress-bar").value = p.done;
    $("gold-dir").textContent = "gold: " + S.list.gold_dir;
  }

  function renderHead() {
    var p = S.current;
    var d = draft();
    $("report-title").textContent = p.report.report_id;
    var status = $("report-status");
    status.textContent = STATUS[p.report.status];
    status.className = "badge st-" + p.report.status;
    status.setAttribute("data-status", p.report.status);
    $("report-meta").textContent = " model " + p.model + " · " + p.source.path +
      (d ? " · draft v" + d.version + (d.base === "gold" ? " (from the gold file)" : d.base === "blank" ? " (blank start)" : "") : "");
    var source = [p.source.title, p.source.published ? "published " + p.source.published : null]
      .filter(function (part) { return part; }).join(" · ");
    $("report-source").textContent = source;
    $("report-source").hidden = !source;
    var warnings = $("report-warnings");
    warnings.replaceChildren();
    if (p.read_only) {
      warnings.appendChild(el("p", { class: "warning error", "data-testid": "read-only", text: "Read-only: " + p.reason }));
    }
    if (p.extraction_error) {
      warnings.appendChild(el("p", { class: "warning error", text: "Extraction failed (" + p.extraction_error.kind + "): " + p.extraction_error.message + " — add the records by hand." }));
    }
    p.notes.forEach(function (note) { warnings.appendChild(el("p", { class: "warning", text: note })); });
    p.flags.forEach(function (flag) { warnings.appendChild(el("p", { class: "warning", text: "Flag: " + flag })); });
    var fields = $("report-fields");
    fields.replaceChildren();
    if (!d) { return; }
    var totals = Object.keys(d.stated_totals).map(function (name) {
      var value = d.stated_totals[name];
      return name + " " + (value === null || value === undefined ? "–" : value);
    }).join(", ");
    var period = p.period ? " (" + p.period.start + " – " + p.period.end + ")" : "";
    fields.appendChild(el("span", { "data-testid": "report-values", text: "coalition month " + (d.coalition_month === null ? "–" : d.coalition_month) + period + " · stated totals: " + totals + " " }));
    fields.appendChild(el("button", {
      type: "button", "data-testid": "edit-report", disabled: readOnly(), title: "Edit the month and the stated totals (m)",
      onclick: function () { openReportEditor(); }
    }, ["Edit ", kbd("m")]));
    if (S.editor && S.editor.kind === "report") { fields.appendChild(renderEditor()); }
  }

  function renderText() {
    var box = $("text");
    var p = S.current;
    box.replaceChildren();
    if (p.text === null || p.text === undefined) {
      box.className = "text none";
      box.removeAttribute("contenteditable");
      box.textContent = p.reason || "No text.";
      return;
    }
    box.className = "text";
    box.setAttribute("contenteditable", "true");
    S.lastSelection = null; // the selection drawn on the old text is gone
    var byUid = {};
    records().forEach(function (r) { byUid[r.uid] = r; });
    p.segments.forEach(function (segment) {
      var node = document.createTextNode(segment[0]);
      for (var i = segment[1].length - 1; i >= 0; i -= 1) {
        var r = byUid[segment[1][i]];
        if (!r) { continue; }
        var mark = el("mark", {
          class: "hl cat-" + r.category + " dec-" + r.decision + (r.uid === S.active ? " active" : ""),
          "data-uid": r.uid, "data-category": r.category
        });
        mark.appendChild(node);
        node = mark;
      }
      box.appendChild(node);
    });
  }

  function summaryParts(parts) {
    var out = [];
    parts.forEach(function (part, i) {
      if (i) { out.push(" · "); }
      out.push(el("bdi", { text: part }));
    });
    return out;
  }

  function badge(text, cls) { return el("span", { class: "badge " + cls, text: text }); }

  function renderRecords() {
    var box = $("records");
    var scroll = box.scrollTop;
    box.replaceChildren();
    var disabled = readOnly();
    S.schema.categories.forEach(function (category) {
      var members = records().filter(function (r) { return r.category === category; });
      box.appendChild(el("div", { class: "cat-head" }, [el("span", { class: "dot cat-" + category }), category + " (" + members.length + ")"]));
      members.forEach(function (r, index) {
        var row = el("div", {
          class: "rec cat-" + category + " dec-" + r.decision + (r.uid === S.active ? " active" : ""),
          "data-testid": "record", "data-category": category, "data-index": index, "data-uid": r.uid,
          "data-decision": r.decision, "data-edited": r.edited ? "1" : "0", "data-origin": r.origin, tabindex: "-1"
        }, [
          el("div", { class: "sum" }, [
            badge(DECISION[r.decision], "dec-" + r.decision),
            r.edited ? badge("edited", "edited") : null,
            r.origin === "added" ? badge("added", "added") : null,
            r.data.evidence_start === null || r.data.evidence_start === undefined ? badge("no span", "") : null,
            (r.warnings || []).length ? badge("check", "warn") : null,
            " "
          ].concat(summaryParts(r.summary))),
          el("div", { class: "ev", dir: "rtl", lang: "ar", text: r.data.evidence })
        ].concat((r.warnings || []).map(function (w) {
          return el("div", { class: "warning", "data-testid": "record-warning", "data-path": w.path, text: w.path + ": " + w.message + " (kept as given)" });
        })).concat([
          el("div", { class: "buttons" }, [
            el("button", { type: "button", "data-testid": "accept", disabled: disabled, title: "Accept (a)", onclick: function () { act(function () { return decide(r.uid, "accepted"); }); } }, ["Accept ", kbd("a")]),
            el("button", { type: "button", "data-testid": "reject", disabled: disabled, title: "Reject (r)", onclick: function () { act(function () { return decide(r.uid, "rejected"); }); } }, ["Reject ", kbd("r")]),
            el("button", { type: "button", "data-testid": "edit", disabled: disabled, title: "Edit (e)", onclick: function () { S.active = r.uid; openRecordEditor(r.uid); } }, ["Edit ", kbd("e")])
          ])
        ]));
        row.addEventListener("click", function (event) {
          if (event.target.closest("button, .editor")) { return; }
          setActive(r.uid, true);
        });
        if (S.editor && S.editor.kind === "record" && S.editor.uid === r.uid) { row.appendChild(renderEditor()); }
        box.appendChild(row);
      });
      if (S.editor && S.editor.kind === "record" && S.editor.uid === null && S.editor.category === category) {
        box.appendChild(el("div", { class: "rec active", "data-testid": "new-record", "data-category": category }, [
          el("div", { class: "sum" }, [badge("new " + category, "added")]), renderEditor()
        ]));
      }
    });
    box.scrollTop = scroll;
  }

  function renderChooser() {
    var box = $("chooser");
    box.replaceChildren();
    box.hidden = !S.chooser;
    if (!S.chooser) { return; }
    box.appendChild(el("div", {}, ["New record from ", el("bdi", { dir: "rtl", text: "«" + S.chooser.text.slice(0, 80) + "»" }), ": choose its category (esc cancels)"]));
    Object.keys(KEY_CATEGORY).forEach(function (key) {
      var category = KEY_CATEGORY[key];
      box.appendChild(el("button", {
        type: "button", "data-testid": "category-" + category, onmousedown: function (event) { event.preventDefault(); },
        onclick: function () { newRecord(category); }
      }, [el("span", { class: "dot cat-" + category }), category + " ", kbd(key)]));
    });
  }

  function renderActions() {
    var disabled = readOnly();
    var pending = records().filter(function (r) { return r.decision === "pending"; }).length;
    $("add-record").disabled = disabled || !S.current.text;
    $("accept-all").disabled = disabled || pending === 0;
    $("save-report").disabled = disabled;
    $("save-report").title = pending ? pending + " record(s) still to review (accept or reject them, or A)" : "Mark the report done and write its gold file (D)";
    $("next-report").disabled = !S.list || S.list.reports.length < 2;
  }

  function setActive(uid, fromRow) {
    if (!uid) { return; }
    S.active = uid;
    document.querySelectorAll(".rec.active, mark.hl.active").forEach(function (node) {
      if (node.getAttribute("data-testid") !== "new-record") { node.classList.remove("active"); }
    });
    var row = document.querySelector('.rec[data-uid="' + CSS.escape(uid) + '"]');
    var marks = document.querySelectorAll('mark.hl[data-uid="' + CSS.escape(uid) + '"]');
    marks.forEach(function (m) { m.classList.add("active"); });
    if (row) { row.classList.add("active"); row.scrollIntoView({ block: "nearest" }); }
    if (marks.length && fromRow !== "text") { marks[0].scrollIntoView({ block: "nearest" }); }
  }

  // --- the editor ---------------------------------------------------------------------------

  function defaults(fields) {
    var data = {};
    fields.forEach(function (d) {
      if (d.kind === "group") { data[d.name] = defaults(d.fields); }
      else if (d.kind === "list" || d.kind === "objects") { data[d.name] = []; }
      else if (Object.prototype.hasOwnProperty.call(d, "default")) { data[d.name] = clone(d.default); }
      else { data[d.name] = null; }
    });
    return data;
  }

  function openRecordEditor(uid) {
    var r = recordByUid(uid);
    if (!r || readOnly()) { return; }
    S.chooser = null;
    S.editor = { kind: "record", uid: uid, category: r.category, data: clone(r.data), base: draft().base_records[uid] || null, errors: [], warnings: r.warnings || [], index: null };
    render();
    focusEditor();
  }

  function openReportEditor() {
    if (readOnly()) { return; }
    var d = draft();
    S.chooser = null;
    S.editor = { kind: "report", data: { coalition_month: d.coalition_month, stated_totals: clone(d.stated_totals) }, base: d.base_report, errors: [] };
    render();
    focusEditor();
  }

  function newRecord(category) {
    var sel = S.chooser;
    S.chooser = null;
    S.lastSelection = null;
    if (!sel) { return; }
    var data = defaults(S.schema.records[category]);
    data.evidence = sel.text;
    data.evidence_start = sel.start;
    data.evidence_end = sel.end;
    S.editor = { kind: "record", uid: null, category: category, data: data, base: null, errors: [] };
    render();
    focusEditor();
  }

  function focusEditor() {
    var first = document.querySelector(".editor input, .editor select");
    if (first) { first.focus(); }
  }

  function editorFields() {
    return S.editor.kind === "report" ? S.schema.report : S.schema.records[S.editor.category];
  }

  function getAt(data, path) {
    return path.reduce(function (node, key) { return node === null || node === undefined ? undefined : node[key]; }, data);
  }

  function setAt(data, path, value) {
    var node = data;
    for (var i = 0; i < path.length - 1; i += 1) {
      if (node[path[i]] === null || node[path[i]] === undefined) { node[path[i]] = typeof path[i + 1] === "number" ? [] : {}; }
      node = node[path[i]];
    }
    node[path[path.length - 1]] = value;
  }

  function key(path) { return path.join("."); }

  function errorsAt(path) {
    var k = key(path);
    return S.editor.errors.filter(function (e) { return e.path === k; });
  }

  function warningsAt(path) {
    var k = key(path);
    return (S.editor.warnings || []).filter(function (w) { return w.path === k; });
  }

  function fieldWarning(path, warning) {
    return el("div", { class: "field-warning", "data-testid": "field-warning", "data-path": key(path), text: key(path) + ": " + warning.message + " (kept as given; saving it is your decision)" });
  }

  function toInteger(raw) {
    var text = raw.replace(/[٠-٩]/g, function (d) { return String(d.charCodeAt(0) - 0x660); }).trim();
    if (text === "") { return null; }
    return /^[+-]?\d+$/.test(text) ? Number(text) : text;
  }

  function update(path, value) { setAt(S.editor.data, path, value); }

  function scalarControl(d, path, value) {
    var testid = "field-" + key(path);
    var common = { "data-testid": testid, "data-path": key(path), id: "f-" + key(path), title: d.description || null };
    var invalid = errorsAt(path).length > 0;
    var control;
    if (d.kind === "enum" || (d.kind === "boolean" && d.nullable)) {
      var options = d.kind === "enum" ? d.options.map(function (o) { return [o, o]; }) : [["true", "yes"], ["false", "no"]];
      var blank = d.kind === "boolean" ? "not said" : (d.nullable ? "—" : "— choose —");
      control = el("select", common, [el("option", { value: "", text: blank })].concat(options.map(function (o) { return el("option", { value: o[0], text: o[1] }); })));
      control.value = value === null || value === undefined ? "" : String(value);
      control.addEventListener("change", function () {
        var v = control.value;
        update(path, v === "" ? null : d.kind === "boolean" ? v === "true" : v);
      });
    } else if (d.kind === "boolean") {
      control = el("input", Object.assign({ type: "checkbox" }, common));
      control.checked = !!value;
      control.addEventListener("change", function () { update(path, control.checked); });
    } else if (d.kind === "date") {
      control = el("input", Object.assign({ type: "date" }, common));
      control.value = value || "";
      control.addEventListener("input", function () { update(path, control.value || null); });
    } else if (d.kind === "integer") {
      control = el("input", Object.assign({ type: "text", inputmode: "numeric", autocomplete: "off" }, common));
      control.value = value === null || value === undefined ? "" : String(value);
      control.addEventListener("input", function () { update(path, toInteger(control.value)); });
    } else {
      control = el("input", Object.assign({ type: "text", dir: "auto", autocomplete: "off" }, common));
      control.value = value === null || value === undefined ? "" : String(value);
      control.addEventListener("input", function () {
        update(path, control.value === "" && d.nullable ? null : control.value);
      });
    }
    if (invalid) { control.classList.add("invalid"); control.setAttribute("aria-invalid", "true"); }
    return control;
  }

  function listControl(d, path, value) {
    var items = Array.isArray(value) ? value : [];
    var box = el("div", { class: "items", "data-testid": "field-" + key(path), "data-path": key(path) });
    if (d.item.kind === "enum") {
      var checks = el("div", { class: "checks" });
      d.item.options.forEach(function (option) {
        var box2 = el("input", { type: "checkbox", value: option, "data-testid": "field-" + key(path) + "." + option });
        box2.checked = items.indexOf(option) >= 0;
        box2.addEventListener("change", function () {
          var chosen = d.item.options.filter(function (o) {
            var node = checks.querySelector('input[value="' + CSS.escape(o) + '"]');
            return node && node.checked;
          });
          update(path, chosen);
        });
        checks.appendChild(el("label", {}, [box2, " " + option]));
      });
      box.appendChild(checks);
      return box;
    }
    items.forEach(function (item, i) {
      box.appendChild(el("div", { class: "item" }, [
        scalarControl(d.item, path.concat([i]), item),
        removeButton(path, i)
      ]));
      errorsAt(path.concat([i])).forEach(function (e) { box.appendChild(fieldError(path.concat([i]), e)); });
      warningsAt(path.concat([i])).forEach(function (w) { box.appendChild(fieldWarning(path.concat([i]), w)); });
    });
    box.appendChild(addButton(path, d.item.kind === "integer" || d.item.kind === "date" ? null : ""));
    return box;
  }

  function objectsControl(d, path, value) {
    var items = Array.isArray(value) ? value : [];
    var box = el("div", { class: "items", "data-testid": "field-" + key(path), "data-path": key(path) });
    items.forEach(function (item, i) {
      var grid = el("div", { class: "grid" });
      d.fields.forEach(function (sub) { addField(grid, sub, path.concat([i, sub.name]), item); });
      box.appendChild(el("fieldset", {}, [el("legend", { text: d.label + " " + (i + 1) }), grid, removeButton(path, i)]));
    });
    box.appendChild(addButton(path, defaults(d.fields)));
    return box;
  }

  function removeButton(path, index) {
    return el("button", {
      type: "button", "data-testid": "remove-" + key(path.concat([index])), title: "Remove",
      onclick: function () {
        var list = getAt(S.editor.data, path) || [];
        list.splice(index, 1);
        render();
        var next = document.querySelector('[data-testid="add-' + CSS.escape(key(path)) + '"]');
        if (next) { next.focus(); }
      }
    }, ["×"]);
  }

  function addButton(path, blank) {
    return el("button", {
      type: "button", "data-testid": "add-" + key(path),
      onclick: function () {
        var list = getAt(S.editor.data, path);
        if (!Array.isArray(list)) { list = []; setAt(S.editor.data, path, list); }
        list.push(clone(blank));
        render();
        var added = document.querySelector('[data-path^="' + CSS.escape(key(path.concat([list.length - 1]))) + '"]');
        if (added) { (added.matches("input, select") ? added : added.querySelector("input, select") || added).focus(); }
      }
    }, ["+ add"]);
  }

  function fieldError(path, error) {
    return el("div", { class: "field-error", "data-testid": "field-error", "data-path": key(path), text: key(path) + ": " + error.message });
  }

  function addField(grid, d, path, data) {
    if (d.kind === "group") {
      d.fields.forEach(function (sub) { addField(grid, sub, path.concat([sub.name]), data); });
      return;
    }
    var value = getAt(S.editor.data, path);
    var label = el("label", { class: "name", for: "f-" + key(path), text: d.label + (d.required ? " *" : ""), title: d.description || null });
    var control;
    if (d.kind === "evidence") {
      control = el("div", {}, [
        el("div", { class: "evidence", dir: "rtl", lang: "ar", "data-testid": "field-evidence", "data-path": "evidence", text: value || "" }),
        el("span", { class: "muted small" }, ["select it in the text (", kbd("/"), " finds, ", kbd("t"), " starts from this record's), then ", kbd("v")])
      ]);
    } else if (d.kind === "list") {
      control = listControl(d, path, value);
    } else if (d.kind === "objects") {
      control = objectsControl(d, path, value);
    } else {
      control = scalarControl(d, path, value);
    }
    var cell = el("div", {}, [control]);
    if (S.editor.base && path.length === 1 && d.kind !== "evidence") {
      var before = S.editor.base[d.name];
      if (!same(before, value)) {
        cell.appendChild(el("div", { class: "muted small", "data-testid": "model-value", text: "was: " + (before === null || before === undefined ? "–" : JSON.stringify(before)) }));
      }
    }
    grid.appendChild(label);
    grid.appendChild(cell);
    errorsAt(path).forEach(function (e) { grid.appendChild(fieldError(path, e)); });
    warningsAt(path).forEach(function (w) { grid.appendChild(fieldWarning(path, w)); });
  }

  function renderEditor() {
    var fields = editorFields();
    var form = el("div", { class: "editor", "data-testid": "editor" });
    var paths = {};
    form.addEventListener("click", function (event) { event.stopPropagation(); });
    var grid = el("div", { class: "grid" });
    fields.forEach(function (d) { addField(grid, d, [d.name], S.editor.data); });
    grid.querySelectorAll("[data-path]").forEach(function (node) { paths[node.getAttribute("data-path")] = true; });
    var loose = S.editor.errors.filter(function (e) { return !paths[e.path]; });
    loose.forEach(function (e) {
      form.appendChild(el("div", { class: "editor-error", "data-testid": "field-error", "data-path": e.path, text: (e.path ? e.path + ": " : "") + e.message }));
    });
    form.appendChild(grid);
    form.appendChild(el("div", { class: "editor-actions" }, [
      el("button", { type: "button", class: "primary", "data-testid": "apply-edit", onclick: function () { act(applyEditor); } }, ["Apply ", kbd("ctrl+enter")]),
      el("button", { type: "button", "data-testid": "cancel-edit", onclick: function () { cancelEditor(); } }, ["Cancel ", kbd("esc")])
    ]));
    return form;
  }

  function clean(data, fields) {
    var out = clone(data);
    fields.forEach(function (d) {
      if (d.kind === "list" && Array.isArray(out[d.name])) {
        out[d.name] = out[d.name].filter(function (v) { return v !== null && v !== ""; });
      }
    });
    return out;
  }

  function cancelEditor() {
    var uid = S.editor && S.editor.uid;
    S.editor = null;
    render();
    if (uid) { setActive(uid, true); }
  }

  async function applyEditor() {
    var ed = S.editor;
    if (!ed || readOnly()) { return; }
    var list = records().slice();
    var report = null;
    var index = null;
    var data = clean(ed.data, editorFields());
    if (ed.kind === "report") {
      report = data;
    } else if (ed.uid) {
      index = list.findIndex(function (r) { return r.uid === ed.uid; });
      list[index] = Object.assign({}, list[index], { data: data, decision: "accepted" });
    } else {
      list.push({ uid: null, category: ed.category, decision: "accepted", data: data });
      index = list.length - 1;
    }
    var previous = S.active;
    var next = ed.uid ? (nextPending(ed.uid) || ed.uid) : null;
    var res = await putDraft(list, report);
    if (res.ok) {
      S.editor = null;
      // An edited record is accepted: go on to the next one to review. After adding a
      // record or editing the totals, go back to the record that was being reviewed.
      S.active = next || previous;
      setCurrent(res.data, false);
      var saved = ed.uid ? recordByUid(ed.uid) : null;
      var warned = saved && saved.warnings && saved.warnings.length ? " Check: " + saved.warnings.map(function (w) { return w.path + ": " + w.message; }).join("; ") + " (kept as given)." : "";
      message((ed.kind === "report" ? "Month and totals saved." : ed.uid ? "Record saved." : "Record added.") + warned, "ok");
      setActive(S.active, true);
      return;
    }
    if (res.status === 422 && res.data.errors) {
      ed.errors = res.data.errors.filter(function (e) {
        return ed.kind === "report" ? e.index === null && e.uid === null : e.index === index || (ed.uid && e.uid === ed.uid);
      });
      var others = res.data.errors.length - ed.errors.length;
      message("Not saved: " + res.data.message + (others ? " (" + others + " error(s) elsewhere in the draft)" : ""), "error");
      render();
      var bad = document.querySelector(".editor .invalid") || document.querySelector(".editor input, .editor select");
      if (bad) { bad.focus(); }
      return;
    }
    failed(res);
  }

  // --- actions ------------------------------------------------------------------------------

  function act(task) { return enqueue(task); }

  async function decide(uid, decision) {
    var r = recordByUid(uid);
    if (!r || readOnly()) { return; }
    var list;
    if (decision === "rejected" && r.origin === "added") {
      list = records().filter(function (x) { return x.uid !== uid; });
    } else {
      list = records().map(function (x) { return x.uid === uid ? Object.assign({}, x, { decision: decision }) : x; });
    }
    var next = nextPending(uid) || nextRecord(uid, 1);
    var res = await putDraft(list, null);
    if (!res.ok) { failed(res); return; }
    S.active = next;
    setCurrent(res.data, false);
    setActive(S.active, true);
  }

  async function acceptAll() {
    if (readOnly()) { return; }
    var list = records().map(function (x) { return x.decision === "pending" ? Object.assign({}, x, { decision: "accepted" }) : x; });
    var res = await putDraft(list, null);
    if (!res.ok) { failed(res); return; }
    setCurrent(res.data, false);
  }

  async function useSelection() {
    var sel = selection();
    if (!sel) { message("Select the evidence in the report text first (/ finds text, t selects the record's evidence).", "error"); return; }
    if (S.editor && S.editor.kind === "record") {
      S.editor.data.evidence = sel.text;
      S.editor.data.evidence_start = sel.start;
      S.editor.data.evidence_end = sel.end;
      render();
      focusEditor();
      return;
    }
    var r = recordByUid(S.active);
    if (!r || readOnly()) { message("Choose a record first (j/k).", "error"); return; }
    var list = records().map(function (x) {
      if (x.uid !== r.uid) { return x; }
      var data = Object.assign({}, x.data, { evidence: sel.text, evidence_start: sel.start, evidence_end: sel.end });
      return Object.assign({}, x, { data: data, decision: "accepted" });
    });
    var res = await putDraft(list, null);
    if (!res.ok) { failed(res); return; }
    setCurrent(res.data, false);
    message("Evidence set.", "ok");
    setActive(r.uid, true);
  }

  function startNewRecord() {
    if (readOnly()) { return; }
    var sel = selection();
    if (!sel) { message("Select the record's text in the report first (with the mouse, or / to find it and shift+arrows).", "error"); return; }
    S.editor = null;
    S.chooser = sel;
    render();
    var first = document.querySelector('[data-testid="category-convoys"]');
    if (first) { first.focus(); }
  }

  async function markDone() {
    if (readOnly()) { return; }
    if (S.editor) { message("Apply or cancel the edit first (ctrl+enter / esc).", "error"); return; }
    var res = await api("POST", "/api/reports/" + enc(S.reportId) + "/done", { version: draft().version, gold_sha256: draft().gold_sha256 });
    if (!res.ok) {
      failed(res);
      if (res.status === 422) {
        S.active = firstPending();
        render();
        setActive(S.active, true);
      }
      return;
    }
    setCurrent(res.data, false);
    await refreshList();
    var saved = "Saved " + res.data.saved + ".";
    var next = neighbour(1, ["todo", "in_progress"]);
    if (next) {
      message(saved + " Next: " + next + ".", "ok");
      await openReport(next, true);
    } else {
      message(saved + " Every report is done.", "ok");
    }
  }

  async function discard() {
    var d = draft();
    var from = d && d.base === "gold" ? "the gold file" : d && d.base === "blank" ? "no record" : "the model's output";
    if (!window.confirm("Throw away the draft of " + S.reportId + " and start again from " + from + "?")) { return; }
    var res = await api("DELETE", "/api/reports/" + enc(S.reportId) + "/draft", { version: d ? d.version : 0 });
    if (!res.ok) { failed(res); return; }
    setCurrent(res.data, true);
    await refreshList();
    message("Started again.", "ok");
  }

  // --- find -------------------------------------------------------------------------------

  async function runFind() {
    var query = $("find").value;
    S.find.query = query;
    S.find.at = -1;
    if (!query.trim() || !S.reportId) { S.find.matches = []; paintFind(); return; }
    var res = await api("GET", "/api/reports/" + enc(S.reportId) + "/find?q=" + encodeURIComponent(query));
    if (res.ok && $("find").value === query) { S.find.matches = res.data.matches; }
    paintFind();
  }

  function paintFind() {
    var n = S.find.matches.length;
    $("find-count").textContent = !S.find.query.trim() ? "" : n === 0 ? "no match" : (S.find.at >= 0 ? (S.find.at + 1) + " of " : "") + n + " match" + (n === 1 ? "" : "es");
    if (window.CSS && CSS.highlights && window.Highlight) {
      var ranges = S.current && S.current.text ? S.find.matches.map(function (m) { return rangeOf(toUnits(m[0]), toUnits(m[1])); }) : [];
      CSS.highlights.set("find", new window.Highlight(...ranges));
    }
  }

  async function findStep(step) {
    if ($("find").value !== S.find.query) { await runFind(); }
    var n = S.find.matches.length;
    if (!n) { message("No match for that text in this report.", "error"); return; }
    S.find.at = S.find.at < 0 ? (step > 0 ? 0 : n - 1) : (S.find.at + step + n) % n;
    var match = S.find.matches[S.find.at];
    paintFind();
    selectPoints(match[0], match[1]);
  }

  // --- keyboard and mouse -----------------------------------------------------------------

  function inEditor(node) { return node && node.closest && node.closest(".editor"); }
  function isField(node) { return node && node.matches && node.matches("input, select, textarea"); }

  function onKey(event) {
    var target = event.target;
    var plain = !event.ctrlKey && !event.metaKey && !event.altKey;
    if (inEditor(target) || (S.editor && target === document.body)) {
      if (event.key === "Escape") { event.preventDefault(); cancelEditor(); return; }
      if (event.key === "Enter" && (event.ctrlKey || event.metaKey || (isField(target) && target.type !== "checkbox" && target.tagName !== "SELECT"))) {
        event.preventDefault();
        act(applyEditor);
      }
      return;
    }
    if (target.id === "find") {
      if (event.key === "Enter") { event.preventDefault(); act(function () { return findStep(event.shiftKey ? -1 : 1); }); }
      else if (event.key === "Escape") { event.preventDefault(); target.blur(); }
      return;
    }
    if (isField(target)) { return; }
    if (target.tagName === "BUTTON" && (event.key === "Enter" || event.key === " ")) { return; }
    var inText = target.id === "text" || (target.closest && target.closest("#text"));
    if (inText && NAV_KEYS.indexOf(event.key) >= 0) { return; }
    if (!plain) {
      if (inText && (event.key === "Enter" || event.key.length === 1) && !(event.ctrlKey && (event.key === "c" || event.key === "a"))) { event.preventDefault(); }
      if ((event.ctrlKey || event.metaKey) && event.key === "Enter") { event.preventDefault(); }
      return;
    }
    if (S.chooser) {
      if (KEY_CATEGORY[event.key]) { event.preventDefault(); newRecord(KEY_CATEGORY[event.key]); return; }
      if (event.key === "Escape") { event.preventDefault(); S.chooser = null; render(); return; }
    }
    var handled = true;
    switch (event.key) {
      case "j": case "ArrowDown": setActive(nextRecord(S.active, 1)); break;
      case "k": case "ArrowUp": setActive(nextRecord(S.active, -1)); break;
      case "a": act(function () { return decide(S.active, "accepted"); }); break;
      case "r": act(function () { return decide(S.active, "rejected"); }); break;
      case "e": openRecordEditor(S.active); break;
      case "Enter": if (target.closest && target.closest(".rec")) { openRecordEditor(S.active); } else { handled = false; } break;
      case "m": openReportEditor(); break;
      case "A": act(acceptAll); break;
      case "D": act(markDone); break;
      case "n": startNewRecord(); break;
      case "v": act(useSelection); break;
      case "t": selectActive(); break;
      case "/": $("find").focus(); $("find").select(); break;
      case "]": act(function () { var id = neighbour(1, null); return id ? openReport(id) : null; }); break;
      case "[": act(function () { var id = neighbour(-1, null); return id ? openReport(id) : null; }); break;
      case "R": act(function () { return openReport(S.reportId); }); break;
      case "X": act(discard); break;
      case "Escape": S.chooser = null; window.getSelection().removeAllRanges(); S.lastSelection = null; render(); break;
      default: handled = false;
    }
    if (handled || inText) { event.preventDefault(); }
  }

  function selectActive() {
    var r = recordByUid(S.active);
    if (!r || !S.current.text || r.data.evidence_start === null || r.data.evidence_start === undefined) {
      $("text").focus();
      return;
    }
    selectPoints(r.data.evidence_start, r.data.evidence_end);
  }

  function wire() {
    document.addEventListener("keydown", onKey);
    var text = $("text");
    ["beforeinput", "paste", "drop", "cut"].forEach(function (name) {
      text.addEventListener(name, function (event) { event.preventDefault(); });
    });
    text.addEventListener("click", function (event) {
      var mark = event.target.closest("mark.hl");
      if (mark && window.getSelection().isCollapsed) { setActive(mark.getAttribute("data-uid"), "text"); }
    });
    document.addEventListener("selectionchange", function () {
      var sel = window.getSelection();
      if (!sel || sel.rangeCount === 0 || !$("text").contains(sel.anchorNode)) { return; }
      S.lastSelection = sel.isCollapsed ? null : currentSelection();
    });
    $("find").addEventListener("input", function () {
      clearTimeout(S.find.timer);
      S.find.timer = setTimeout(function () { act(runFind); }, 150);
    });
    [$("add-record")].concat(Array.prototype.slice.call(document.querySelectorAll(".actions button"))).forEach(function (button) {
      button.addEventListener("mousedown", function (event) { event.preventDefault(); });
    });
    $("add-record").addEventListener("click", startNewRecord);
    $("accept-all").addEventListener("click", function () { act(acceptAll); });
    $("save-report").addEventListener("click", function () { act(markDone); });
    $("next-report").addEventListener("click", function () {
      act(function () { var id = neighbour(1, null); return id ? openReport(id) : null; });
    });
    $("discard-draft").addEventListener("click", function () { act(discard); });
  }

  async function start() {
    wire();
    if (!TOKEN) { message("Open this page with the URL that llm-extract annotate printed (it carries the token).", "error"); return; }
    var res = await api("GET", "/api/schema");
    if (!res.ok) { failed(res); return; }
    S.schema = res.data;
    Object.keys(S.schema.colours).forEach(function (category) {
      document.documentElement.style.setProperty("--cat-" + category, S.schema.colours[category]);
    });
    if (!(await refreshList())) { return; }
    if (S.list.skipped_lines.length) { message("Skipped: " + S.list.skipped_lines.join("; "), "error"); }
    var wanted = new URLSearchParams(window.location.hash.replace(/^#/, "")).get("r");
    var entry = S.list.reports.find(function (r) { return r.report_id === wanted; }) ||
      S.list.reports.find(function (r) { return r.status === "in_progress" || r.status === "todo"; }) ||
      S.list.reports[0];
    if (entry) { await openReport(entry.report_id, true); } else { $("empty").textContent = "No report in this output file."; }
  }

  window.addEventListener("error", function (event) {
    document.documentElement.setAttribute("data-errors", String(event.message));
  });
  document.addEventListener("DOMContentLoaded", function () {
    enqueue(start).then(function () { document.documentElement.setAttribute("data-ready", "1"); });
  });
})();
