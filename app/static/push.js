// Web Push sign-up on a grant form (<form data-push-form>): the one control of a scope on the
// permissions page, when its "Browser notifications" switch (input name=channel value=push) is
// turned on, or a per-channel yes form. The form is an ordinary POST that records the grant
// without any script; with a browser that can push, this script runs first: it asks for
// notification permission (browsers show that prompt only after a user gesture, here the press
// of the save or yes button), registers the service worker, subscribes with the site's VAPID
// key and POSTs the subscription to data-subscribe-url with the CSRF token. Then the form is
// submitted as usual, whatever happened: the grant never depends on the browser. A save that
// does not turn the switch on (it was on already, or stays off) is submitted at once.
//
// Tests set window.__pullfirstPushSubscription to a subscription JSON of their own (a browser
// without a reachable push service cannot subscribe); it is posted instead of a real one.
(function () {
  "use strict";
  var forms = document.querySelectorAll("form[data-push-form]");
  if (!forms.length) { return; }
  if (!("serviceWorker" in navigator) || !("PushManager" in window) ||
      !("Notification" in window)) {
    return;
  }
  var LIMIT_MS = 20000;

  function keyBytes(text) {
    var base64 = text.replace(/-/g, "+").replace(/_/g, "/");
    base64 += "===".slice((base64.length + 3) % 4);
    var raw = window.atob(base64);
    var bytes = new Uint8Array(raw.length);
    for (var i = 0; i < raw.length; i += 1) { bytes[i] = raw.charCodeAt(i); }
    return bytes;
  }

  function sameKey(subscription, wanted) {
    var given = subscription.options && subscription.options.applicationServerKey;
    if (!given) { return false; }
    var have = new Uint8Array(given);
    if (have.length !== wanted.length) { return false; }
    for (var i = 0; i < have.length; i += 1) {
      if (have[i] !== wanted[i]) { return false; }
    }
    return true;
  }

  function askPermission() {
    if (Notification.permission === "granted") { return Promise.resolve("granted"); }
    return new Promise(function (resolve) {
      // Older Safari takes a callback and returns nothing; the others return a promise.
      var answer = Notification.requestPermission(resolve);
      if (answer && typeof answer.then === "function") {
        answer.then(resolve, function () { resolve("denied"); });
      }
    });
  }

  function within(promise, ms) {
    return new Promise(function (resolve, reject) {
      var timer = window.setTimeout(function () { reject(new Error("took too long")); }, ms);
      promise.then(function (value) {
        window.clearTimeout(timer);
        resolve(value);
      }, function (error) {
        window.clearTimeout(timer);
        reject(error);
      });
    });
  }

  function watch(form) {
    var started = false;
    var finished = false;

    // Whether this save asks for notifications: on a switch form, only when the push switch is
    // on now and was off when the page was drawn (its checked attribute).
    function turnedOn() {
      var toggle = form.querySelector("input[name=channel][value=push]");
      return !toggle || (toggle.checked && !toggle.defaultChecked);
    }

    function subscriptionJson(registration) {
      if (window.__pullfirstPushSubscription) {
        return Promise.resolve(window.__pullfirstPushSubscription);
      }
      var key = keyBytes(form.getAttribute("data-vapid-key") || "");
      var manager = registration.pushManager;
      return manager.getSubscription().then(function (existing) {
        if (existing && sameKey(existing, key)) { return existing; }
        // A subscription made with another key cannot be reused: replace it.
        var cleared = existing ? existing.unsubscribe() : Promise.resolve(true);
        return cleared.then(function () {
          return manager.subscribe({ userVisibleOnly: true, applicationServerKey: key });
        });
      }).then(function (subscription) {
        return subscription.toJSON();
      });
    }

    function signUp() {
      var token = form.querySelector("input[name=csrf_token]");
      return askPermission().then(function (permission) {
        if (permission !== "granted") { throw new Error("notifications not granted"); }
        return navigator.serviceWorker.register(form.getAttribute("data-worker-url"), { scope: "/" });
      }).then(function () {
        return navigator.serviceWorker.ready;
      }).then(subscriptionJson).then(function (json) {
        return fetch(form.getAttribute("data-subscribe-url"), {
          method: "POST",
          credentials: "same-origin",
          headers: {
            "Content-Type": "application/json",
            "X-CSRFToken": token ? token.value : ""
          },
          body: JSON.stringify(json)
        });
      }).then(function (response) {
        if (!response.ok) { throw new Error("subscription refused: " + response.status); }
      });
    }

    function submitForm(submitter) {
      finished = true;
      if (typeof form.requestSubmit === "function") {
        // Submits with the pressed button's name and value, as the plain form would.
        form.requestSubmit(submitter && submitter.form === form ? submitter : undefined);
        return;
      }
      if (submitter && submitter.name) {
        var carried = document.createElement("input");
        carried.type = "hidden";
        carried.name = submitter.name;
        carried.value = submitter.value;
        form.appendChild(carried);
      }
      form.submit();
    }

    form.addEventListener("submit", function (event) {
      if (finished || !turnedOn()) { return; }
      event.preventDefault();
      if (started) { return; }
      started = true;
      var submitter = event.submitter || null;
      form.setAttribute("data-push-state", "working");
      within(signUp(), LIMIT_MS).then(function () {
        form.setAttribute("data-push-state", "subscribed");
      }, function () {
        form.setAttribute("data-push-state", "skipped");
      }).then(function () {
        // From a fresh task: while the submit event is still being dispatched (the sign-up
        // can fail within the same task), the browser ignores requestSubmit().
        window.setTimeout(function () { submitForm(submitter); }, 0);
      });
    });
  }

  Array.prototype.forEach.call(forms, watch);
})();
