// Live preview for the content editor: the server renders the Markdown (the same renderer and
// sanitizer as the site) and this script only swaps the fragment in.
(function () {
  "use strict";
  var form = document.getElementById("editor-form");
  if (!form) { return; }
  var text = form.querySelector("textarea[name=text]");
  var token = form.querySelector("input[name=csrf_token]");
  var preview = document.getElementById("preview");
  var url = form.getAttribute("data-preview-url");
  var timer = null;
  var sent = 0;
  function refresh() {
    var body = new URLSearchParams();
    body.set("text", text.value);
    var mine = ++sent;
    fetch(url, {
      method: "POST",
      body: body,
      credentials: "same-origin",
      headers: { "X-CSRFToken": token ? token.value : "" }
    }).then(function (response) {
      return response.ok ? response.text() : null;
    }).then(function (html) {
      if (html !== null && mine === sent) { preview.innerHTML = html; }
    }).catch(function () { /* keep the last preview */ });
  }
  text.addEventListener("input", function () {
    window.clearTimeout(timer);
    timer = window.setTimeout(refresh, 400);
  });
})();
