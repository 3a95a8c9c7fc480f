/*
 * The grid report form's service worker (served by mediation.views_grid.grid_sw from
 * /mediation/grid-sw.js, so its scope covers /mediation/reports/new/; the view puts
 * ``var GRID_SW = {form, offline, assets, version}`` before this file).
 *
 * It lets a grid worker with no signal still open the report form; grid.js keeps what is
 * typed in IndexedDB and sends it later (mediation/DECISIONS.md M19).
 *  - Opening the form goes to the network, always, however slow. Only when the network
 *    cannot be reached at all (the fetch fails) is the kept copy given instead: the empty
 *    form (GRID_SW.offline, the form's own address with ?offline=1), which holds no name,
 *    grid, menu, message or CSRF token of anyone's. The page the server makes for a signed-in
 *    user is never kept, and a response from any other address (a redirect to sign in,
 *    say) is never kept nor given for the form.
 *  - Its static files: the kept copy at once, refreshed from the network behind it.
 * Nothing else is touched: other pages under /mediation/ (the script's "who is signed in"
 * and its CSRF token among them) go to the network as usual, and no POST is ever answered
 * here.
 */
/* global GRID_SW */
"use strict";

var CACHE = "grid-" + GRID_SW.version;
var FONTS = "/vendor/bootstrap-icons/fonts/";

self.addEventListener("install", function (event) {
  event.waitUntil(caches.open(CACHE).then(function (cache) {
    return Promise.all(GRID_SW.assets.map(function (url) {
      return cache.add(url).catch(function () { return null; });
    })).then(function () { return keepEmptyForm(cache); });
  }).then(function () { return self.skipWaiting(); }));
});

self.addEventListener("activate", function (event) {
  // Earlier versions' caches go, with whatever they kept.
  event.waitUntil(caches.keys().then(function (keys) {
    return Promise.all(keys.filter(function (key) {
      return key.indexOf("grid-") === 0 && key !== CACHE;
    }).map(function (key) { return caches.delete(key); }));
  }).then(function () { return self.clients.claim(); }));
});

self.addEventListener("fetch", function (event) {
  var request = event.request;
  if (request.method !== "GET") return;
  var url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (url.pathname === GRID_SW.form && request.mode === "navigate") {
    event.respondWith(formPage(event));
  } else if (GRID_SW.assets.indexOf(url.pathname) !== -1 || url.pathname.indexOf(FONTS) !== -1) {
    event.respondWith(staticFile(request));
  }
});

// A response to keep: a plain same-origin 200 from the very address that was asked.
function usable(response, path) {
  return response && response.ok && !response.redirected && response.type === "basic" &&
    new URL(response.url).pathname === path;
}

function keepEmptyForm(cache) {
  return fetch(GRID_SW.offline, {credentials: "same-origin", cache: "no-store", redirect: "error"})
    .then(function (response) {
      if (usable(response, GRID_SW.form)) return cache.put(GRID_SW.offline, response);
      return null;
    })
    .catch(function () { return null; });
}

function formPage(event) {
  return fetch(event.request).then(function (response) {
    // Signal: the server's page as it is (never kept); the empty form is refreshed behind it.
    try {
      event.waitUntil(caches.open(CACHE).then(keepEmptyForm));
    } catch (ignored) { /* the event is over: the next opening refreshes it */ }
    return response;
  }, function () {
    return caches.open(CACHE).then(function (cache) {
      return cache.match(GRID_SW.offline);
    }).then(function (response) { return response || Response.error(); });
  });
}

function staticFile(request) {
  var path = new URL(request.url).pathname;
  return caches.open(CACHE).then(function (cache) {
    return cache.match(request, {ignoreVary: true}).then(function (kept) {
      var network = fetch(request).then(function (response) {
        if (usable(response, path)) cache.put(request, response.clone());
        return response;
      });
      if (kept) {
        network.catch(function () { return null; });
        return kept;
      }
      return network;
    });
  });
}
