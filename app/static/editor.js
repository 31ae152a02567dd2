// The web editor (posts, pages and surveys). The page works without this script: a textarea
// and plain forms. With it:
// - a live preview (the server renders with the site's own renderer and sanitizer);
// - line numbers in a gutter that scrolls with the text, marked where the check finds problems;
// - the content check after each pause in typing (the same checks as `flask content check`),
//   listed with links to their lines;
// - fields beside the text (and, for surveys, a form for the questions) kept in step with the
//   front matter both ways: the server reads the front matter, this script writes it;
// - images uploaded without leaving the page, their Markdown put at the cursor;
// - the text kept on the server a few seconds after typing stops, and a warning before leaving
//   the page while the text differs from the last save or autosave.
(function () {
  "use strict";
  var form = document.getElementById("editor-form");
  if (!form) { return; }
  var text = form.querySelector("textarea[name=text]");
  var token = form.querySelector("input[name=csrf_token]");
  var preview = document.getElementById("preview");
  var gutter = document.getElementById("gutter");
  var problemList = document.getElementById("problem-list");
  var problemsNone = document.getElementById("problems-none");
  var autosaveStatus = document.getElementById("autosave-status");
  var fieldset = document.getElementById("editor-fields");
  var questionsBox = document.getElementById("questions-editor");
  var hash = form.querySelector("input[name=hash]");
  var kind = form.getAttribute("data-kind");
  var AUTOSAVE_DELAY = 2500;
  var CHECK_DELAY = 600;
  var PREVIEW_DELAY = 400;
  var baseline = text.value;   // the text as last saved or autosaved
  var submitting = false;
  var timers = {};
  var serial = { preview: 0, check: 0 };
  var marks = {};              // line -> "error" or "warning"
  var questions = [];          // the survey's questions as last read or written

  function later(name, delay, run) {
    window.clearTimeout(timers[name]);
    timers[name] = window.setTimeout(run, delay);
  }

  function post(url, body, accept) {
    return fetch(url, {
      method: "POST",
      body: body,
      credentials: "same-origin",
      headers: { "X-CSRFToken": token ? token.value : "", "Accept": accept || "text/html" }
    });
  }

  // --- live preview -----------------------------------------------------------------------
  function refreshPreview() {
    var body = new URLSearchParams();
    body.set("text", text.value);
    var mine = ++serial.preview;
    post(form.getAttribute("data-preview-url"), body).then(function (response) {
      return response.ok ? response.text() : null;
    }).then(function (html) {
      if (html !== null && mine === serial.preview) { preview.innerHTML = html; }
    }).catch(function () { /* keep the last preview */ });
  }

  // --- line numbers -----------------------------------------------------------------------
  var shownLines = -1;
  var shownMarks = "";
  function drawGutter() {
    var count = text.value.split("\n").length;
    var key = JSON.stringify(marks);
    if (count === shownLines && key === shownMarks) { return; }
    shownLines = count;
    shownMarks = key;
    var fragment = document.createDocumentFragment();
    for (var n = 1; n <= count; n++) {
      var span = document.createElement("span");
      span.className = "ln" + (marks[n] ? " ln-" + marks[n] : "");
      span.textContent = String(n);
      fragment.appendChild(span);
    }
    gutter.textContent = "";
    gutter.appendChild(fragment);
    syncScroll();
  }
  function syncScroll() { gutter.scrollTop = text.scrollTop; }

  function goToLine(line) {
    var lines = text.value.split("\n");
    var start = 0;
    for (var i = 0; i < line - 1 && i < lines.length; i++) { start += lines[i].length + 1; }
    var end = start + (lines[line - 1] || "").length;
    text.focus();
    text.setSelectionRange(start, end);
    var height = parseFloat(window.getComputedStyle(text).lineHeight) || 20;
    text.scrollTop = Math.max(0, (line - 1) * height - text.clientHeight / 3);
    syncScroll();
  }

  // --- the content check --------------------------------------------------------------------
  function showProblems(problems) {
    marks = {};
    problemList.textContent = "";
    problems.forEach(function (p) {
      var item = document.createElement("li");
      item.className = "problem problem-" + (p.warning ? "warning" : "error");
      item.setAttribute("data-line", String(p.line));
      var link = document.createElement("a");
      link.href = "#text";
      link.setAttribute("data-line", String(p.line));
      link.textContent = "Line " + p.line;
      item.appendChild(link);
      item.appendChild(document.createTextNode(": " + p.message));
      if (p.warning) {
        var note = document.createElement("span");
        note.className = "problem-kind";
        note.textContent = "(advice: saving still works)";
        item.appendChild(document.createTextNode(" "));
        item.appendChild(note);
      }
      problemList.appendChild(item);
      if (marks[p.line] !== "error") { marks[p.line] = p.warning ? "warning" : "error"; }
    });
    problemsNone.hidden = problems.length > 0;
    shownMarks = "";
    drawGutter();
  }

  function readMarksFromPage() {
    var items = problemList.querySelectorAll("li[data-line]");
    for (var i = 0; i < items.length; i++) {
      var line = parseInt(items[i].getAttribute("data-line"), 10);
      var warning = items[i].classList.contains("problem-warning");
      if (marks[line] !== "error") { marks[line] = warning ? "warning" : "error"; }
    }
  }

  function runCheck() {
    var sent = text.value;
    var body = new URLSearchParams();
    body.set("kind", kind);
    body.set("name", form.getAttribute("data-name"));
    body.set("text", sent);
    var mine = ++serial.check;
    post(form.getAttribute("data-check-url"), body, "application/json").then(function (response) {
      return response.ok ? response.json() : null;
    }).then(function (answer) {
      if (!answer || mine !== serial.check) { return; }
      showProblems(answer.problems || []);
      if (answer.fields && text.value === sent) { showFields(answer.fields); }
    }).catch(function () { /* the server's check on save still holds */ });
  }

  // --- writing the front matter -------------------------------------------------------------
  var PLAIN = /^[A-Za-z0-9\/][A-Za-z0-9\/:._+-]*$/;
  var SPECIAL = /^(true|false|yes|no|on|off|null|~|[0-9._+-]+)$/i;
  var MOMENT = /^\d{4}-\d{2}-\d{2}([ T]\d{2}:\d{2}(:\d{2})?(Z|[+-]\d{2}:?\d{2})?)?$/;
  function scalar(value) {
    if (MOMENT.test(value) || (PLAIN.test(value) && !SPECIAL.test(value))) { return value; }
    return JSON.stringify(value);  // a JSON string is a YAML double-quoted scalar
  }

  function frontEnd(lines) {
    if (!lines.length || lines[0].trim() !== "---") { return -1; }
    for (var i = 1; i < lines.length; i++) {
      var line = lines[i].trim();
      if (line === "---" || line === "...") { return i; }
    }
    return -1;
  }

  // Sets (or, for null, removes) one top-level field, keeping every other line as written.
  function setField(source, name, value) {
    var lines = source.split("\n");
    var end = frontEnd(lines);
    if (end < 0) { return source; }
    var start = -1;
    var pattern = new RegExp("^" + name + "\\s*:");
    for (var i = 1; i < end; i++) { if (pattern.test(lines[i])) { start = i; break; } }
    var written = value === null ? [] : (name + ":" + (value.charAt(0) === "\n" ? "" : " ") + value).split("\n");
    if (start < 0) {
      Array.prototype.splice.apply(lines, [end, 0].concat(written));
    } else {
      var stop = start + 1;
      while (stop < end && /^[\s-]/.test(lines[stop]) && lines[stop].trim() !== "") { stop++; }
      Array.prototype.splice.apply(lines, [start, stop - start].concat(written));
    }
    return lines.join("\n");
  }

  function replaceText(value) {
    var top = text.scrollTop;
    text.value = value;
    text.scrollTop = top;
    changed();
  }

  // --- fields beside the text ---------------------------------------------------------------
  function fieldValue(input) {
    var value = input.value.trim();
    if (input.getAttribute("data-list")) {
      var items = value.split(",").map(function (t) { return t.trim(); }).filter(Boolean);
      return "[" + items.map(scalar).join(", ") + "]";
    }
    if (!value) { return input.getAttribute("data-field") === "title" ? '""' : null; }
    return scalar(input.value.replace(/\s+/g, " ").trim());
  }

  function showFields(fields) {
    if (fieldset) {
      var inputs = fieldset.querySelectorAll("[data-field]");
      for (var i = 0; i < inputs.length; i++) {
        var input = inputs[i];
        if (input === document.activeElement) { continue; }
        var value = fields[input.getAttribute("data-field")];
        if (Array.isArray(value)) { value = value.join(", "); }
        input.value = value === undefined || value === null ? "" : String(value);
      }
    }
    if (questionsBox && !questionsBox.contains(document.activeElement)) {
      questions = Array.isArray(fields.questions) ? fields.questions.filter(function (q) {
        return q && typeof q === "object" && !Array.isArray(q);
      }) : [];
      drawQuestions();
    }
  }

  if (fieldset) {
    fieldset.hidden = false;
    fieldset.addEventListener("input", function (event) {
      var input = event.target;
      var name = input.getAttribute("data-field");
      if (name) { replaceText(setField(text.value, name, fieldValue(input))); }
    });
  }

  // --- the questions of a survey ------------------------------------------------------------
  var KNOWN = ["id", "type", "label", "hint", "required", "options"];
  var CHOICES = { single: true, multi: true };

  function yamlValue(value) {
    if (typeof value === "string") { return scalar(value); }
    return JSON.stringify(value);  // numbers, booleans, lists and mappings in flow style
  }

  function questionsYaml() {
    var out = [];
    questions.forEach(function (q) {
      var first = true;
      function add(key, value) {
        out.push((first ? "  - " : "    ") + key + ": " + value);
        first = false;
      }
      add("id", yamlValue(String(q.id || "")));
      add("type", yamlValue(String(q.type || "text")));
      add("label", JSON.stringify(String(q.label || "")));
      if (q.hint) { add("hint", JSON.stringify(String(q.hint))); }
      if (q.required) { add("required", "true"); }
      if (CHOICES[q.type] && Array.isArray(q.options)) {
        add("options", "");
        out[out.length - 1] = out[out.length - 1].replace(/: $/, ":");
        q.options.forEach(function (o) { out.push("      - " + JSON.stringify(String(o))); });
      }
      Object.keys(q).forEach(function (key) {
        if (KNOWN.indexOf(key) < 0 && q[key] !== null && q[key] !== undefined) {
          add(key, yamlValue(q[key]));
        }
      });
    });
    return out.length ? "\n" + out.join("\n") : "[]";
  }

  function writeQuestions() { replaceText(setField(text.value, "questions", questionsYaml())); }

  function drawQuestions() {
    var list = document.getElementById("question-list");
    var template = document.getElementById("question-template");
    list.textContent = "";
    questions.forEach(function (q, index) {
      var item = template.content.firstElementChild.cloneNode(true);
      item.setAttribute("data-index", String(index));
      item.querySelector(".question-legend").textContent = "Question " + (index + 1);
      item.querySelector("[data-q=id]").value = q.id || "";
      item.querySelector("[data-q=type]").value = q.type || "text";
      item.querySelector("[data-q=label]").value = q.label || "";
      item.querySelector("[data-q=hint]").value = q.hint || "";
      item.querySelector("[data-q=required]").checked = q.required === true;
      item.querySelector("[data-q=options]").value = Array.isArray(q.options) ? q.options.join("\n") : "";
      item.querySelector(".question-options").hidden = !CHOICES[q.type];
      list.appendChild(item);
    });
  }

  function questionEdited(event) {
    var input = event.target;
    var item = input.closest("[data-index]");
    var key = input.getAttribute("data-q");
    if (!item || !key) { return; }
    var q = questions[parseInt(item.getAttribute("data-index"), 10)];
    if (key === "required") {
      q.required = input.checked;
    } else if (key === "options") {
      q.options = input.value.split("\n").map(function (o) { return o.trim(); }).filter(Boolean);
    } else {
      q[key] = input.value;
    }
    if (key === "type") {
      if (CHOICES[q.type] && !Array.isArray(q.options)) { q.options = []; }
      if (q.type !== "text") { delete q.max_length; }
      item.querySelector(".question-options").hidden = !CHOICES[q.type];
    }
    writeQuestions();
  }

  function questionMoved(event) {
    var button = event.target.closest("button");
    var item = button && button.closest("[data-index]");
    if (!item) { return; }
    var index = parseInt(item.getAttribute("data-index"), 10);
    if (button.hasAttribute("data-remove")) {
      questions.splice(index, 1);
    } else if (button.hasAttribute("data-move")) {
      var to = index + parseInt(button.getAttribute("data-move"), 10);
      if (to < 0 || to >= questions.length) { return; }
      var moved = questions.splice(index, 1)[0];
      questions.splice(to, 0, moved);
    } else {
      return;
    }
    drawQuestions();
    writeQuestions();
  }

  if (questionsBox) {
    questionsBox.hidden = false;
    questionsBox.addEventListener("input", questionEdited);
    questionsBox.addEventListener("change", function (event) {
      if (event.target.type === "checkbox" || event.target.tagName === "SELECT") { questionEdited(event); }
    });
    questionsBox.addEventListener("click", questionMoved);
    document.getElementById("question-add").addEventListener("click", function () {
      var taken = {};
      questions.forEach(function (q) { taken[q.id] = true; });
      var n = questions.length + 1;
      while (taken["question-" + n]) { n++; }
      questions.push({ id: "question-" + n, type: "text", label: "" });
      drawQuestions();
      writeQuestions();
      var labels = questionsBox.querySelectorAll("[data-q=label]");
      labels[labels.length - 1].focus();
    });
  }

  // --- autosave and the leave-page guard ----------------------------------------------------
  function autosave() {
    var sent = text.value;
    if (sent === baseline) { return; }
    var body = new URLSearchParams();
    body.set("file", form.getAttribute("data-file"));
    body.set("text", sent);
    body.set("hash", hash ? hash.value : "");
    post(form.getAttribute("data-autosave-url"), body, "application/json").then(function (response) {
      return response.ok ? response.json() : null;
    }).then(function (answer) {
      if (!answer || !answer.saved_at) {
        autosaveStatus.textContent = "Not kept on the server yet: save before you leave.";
        return;
      }
      baseline = sent;
      var at = new Date(answer.saved_at);
      autosaveStatus.textContent = "Unsaved text kept at " +
        String(at.getHours()).padStart(2, "0") + ":" + String(at.getMinutes()).padStart(2, "0") +
        ". Save to publish it.";
    }).catch(function () {
      autosaveStatus.textContent = "Not kept on the server (offline?): save before you leave.";
    });
  }

  window.addEventListener("beforeunload", function (event) {
    if (submitting || text.value === baseline) { return; }
    event.preventDefault();
    event.returnValue = "";  // older browsers need a value to ask
  });
  form.addEventListener("submit", function () { submitting = true; });

  // --- uploads without leaving the page -----------------------------------------------------
  var cursor = text.value.length;
  function remember() { cursor = text.selectionStart; }
  text.addEventListener("keyup", remember);
  text.addEventListener("click", remember);
  text.addEventListener("select", remember);

  var upload = document.getElementById("upload-form");
  if (upload) {
    var uploadStatus = document.getElementById("upload-status");
    upload.addEventListener("submit", function (event) {
      event.preventDefault();
      uploadStatus.textContent = "Uploading…";
      post(upload.action, new FormData(upload), "application/json").then(function (response) {
        return response.json().catch(function () { return { errors: ["The upload was refused."] }; });
      }).then(function (answer) {
        if (answer.markdown) {
          var before = text.value.slice(0, cursor);
          var after = text.value.slice(cursor);
          var piece = (before && !/\n\n$/.test(before) ? (/\n$/.test(before) ? "\n" : "\n\n") : "") +
            answer.markdown + "\n";
          replaceText(before + piece + after);
          cursor += piece.length;
          uploadStatus.textContent = answer.message;
          upload.reset();
        } else {
          uploadStatus.textContent = (answer.errors || ["The upload was refused."]).join(" ");
        }
      }).catch(function () { uploadStatus.textContent = "The upload failed: try again."; });
    });
  }

  // --- wiring ----------------------------------------------------------------------------------
  function changed() {
    drawGutter();
    later("preview", PREVIEW_DELAY, refreshPreview);
    later("check", CHECK_DELAY, runCheck);
    later("autosave", AUTOSAVE_DELAY, autosave);
  }

  text.addEventListener("input", changed);
  text.addEventListener("scroll", syncScroll);
  problemList.addEventListener("click", function (event) {
    var link = event.target.closest("a[data-line]");
    if (!link) { return; }
    event.preventDefault();
    goToLine(parseInt(link.getAttribute("data-line"), 10));
  });
  gutter.hidden = false;
  form.classList.add("has-gutter");
  readMarksFromPage();
  drawGutter();
  runCheck();  // fills the fields from the front matter
})();
