// The site's service worker for Web Push, served from the site root (/push-worker.js) so that
// its scope is the whole site.
//
// A push carries JSON {"title", "body", "url", "tag"} (encrypted on the way; the browser hands
// it over decrypted). Each push shows exactly one notification: the page subscribed with
// userVisibleOnly, and a browser may drop the subscription of a worker that stays silent, so a
// missing or broken payload still shows a plain notice instead of throwing. A click opens the
// notification's url, but only on this site's own origin: anything else opens the home page,
// so a payload can never send the member to a foreign address.
"use strict";

var FALLBACK_TITLE = "Pullfirst";
var ICON = "/static/favicon.svg";

function textOf(value, limit) {
  return typeof value === "string" ? value.slice(0, limit) : "";
}

// What a push asks to show: {title, options} for registration.showNotification.
self.pullfirstNotice = function (payload) {
  var given = payload && typeof payload === "object" && !Array.isArray(payload) ? payload : {};
  var options = {
    body: textOf(given.body, 1000),
    icon: ICON,
    data: { url: textOf(given.url, 2000) || "/" }
  };
  var tag = textOf(given.tag, 200);
  if (tag) { options.tag = tag; }
  return { title: textOf(given.title, 200) || FALLBACK_TITLE, options: options };
};

// Where a click on `notification` leads: its data.url when that is on this worker's origin
// (as an absolute URL), else "/".
self.pullfirstTarget = function (notification) {
  var data = notification && notification.data;
  var raw = data && typeof data.url === "string" ? data.url : "";
  if (!raw) { return "/"; }
  var url;
  try {
    url = new URL(raw, self.location.origin);
  } catch (error) {
    return "/";
  }
  return url.origin === self.location.origin ? url.href : "/";
};

function readPayload(event) {
  if (!event.data) { return null; }
  try {
    return event.data.json();
  } catch (error) {
    return null;
  }
}

self.addEventListener("install", function () {
  self.skipWaiting();
});

self.addEventListener("activate", function (event) {
  event.waitUntil(self.clients.claim());
});

self.addEventListener("push", function (event) {
  var notice = self.pullfirstNotice(readPayload(event));
  event.waitUntil(
    self.registration.showNotification(notice.title, notice.options).catch(function () {
      // Notifications were revoked meanwhile: nothing can be shown.
    })
  );
});

self.addEventListener("notificationclick", function (event) {
  var notification = event.notification;
  var target = new URL(self.pullfirstTarget(notification), self.location.origin).href;
  notification.close();
  event.waitUntil(
    self.clients.matchAll({ type: "window", includeUncontrolled: true }).then(function (windows) {
      for (var i = 0; i < windows.length; i += 1) {
        if (windows[i].url === target && "focus" in windows[i]) {
          return windows[i].focus();
        }
      }
      return self.clients.openWindow ? self.clients.openWindow(target) : null;
    }).catch(function () {
      // The browser would not open or focus a window: nothing else to do.
    })
  );
});
