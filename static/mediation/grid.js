/*
 * The grid worker's report form on a phone (/mediation/reports/new/) and the reports list.
 *
 * Nothing typed is lost (issue 11; mediation/DECISIONS.md M19):
 *  - The form is sent with fetch to the JSON twin of the form (data-sync-url). When there
 *    is no signal (navigator.onLine false, or the request fails), the fields and photos are
 *    kept in IndexedDB on the phone, the page says so and lists them, and they are sent
 *    when the connection returns (the "online" event, the next page load, every minute,
 *    or "Send them now"). A kept report leaves the phone only once the server confirms it.
 *  - Each report carries a key made here (client_key): a report sent twice, because the
 *    answer was lost on the way back, is one report on the server.
 *  - A report the server refuses (a rule broken) stays kept, with the server's messages;
 *    "Open in the form" puts it back, photos included, to be corrected.
 *  - Whose a report is: each kept report carries the id of the account it was typed under
 *    (typed_by), and is sent only while the server says that account is signed in (asked
 *    at data-me-url, past the service worker, never from the page, which may be old); the
 *    server refuses it under any other account (409) and it stays for its owner.
 *  - The page the service worker keeps for a phone without signal (data-offline) holds
 *    nobody's data: the account it reports for and its grids come from what this phone last
 *    heard from the server (IndexedDB, by account); after a sign-out seen here, nobody.
 *  - The problems of a report sent now are shown at their fields without reloading the
 *    page, so photos already chosen stay chosen.
 * Also: several camera shots add up in the one photo input, party rows are added on
 * demand, and the fields that only matter with a tick or a choice show with it.
 *
 * Without JavaScript the form posts as an ordinary form. No inline script or style (CSP).
 */
(function () {
  "use strict";

  var form = document.querySelector("[data-grid-form]");
  if (!form) return;
  var onList = form.hasAttribute("data-list");
  var offline = form.hasAttribute("data-offline");
  var syncUrl = form.getAttribute("data-sync-url");
  var formUrl = form.getAttribute("data-form-url");
  var swUrl = form.getAttribute("data-sw-url");
  var meUrl = form.getAttribute("data-me-url");
  var texts = document.querySelector("[data-grid-text]");
  var statusBox = document.querySelector("[data-grid-status]");
  var pendingBox = document.querySelector("[data-grid-pending]");
  var pendingList = document.querySelector("[data-grid-pending-list]");
  var MAX_PHOTOS = 6;
  var MAX_BYTES = 8 * 1024 * 1024;
  var PHOTO_TYPES = /^image\/(jpeg|png|webp)$/;
  var sentNow = [];  // reports sent from the phone's store during this visit
  var me = null;     // the account reported for: {user, name, grids, logout, seenAt}
  var csrf = "";     // the token the server gave with it

  function t(name) {
    return (texts && texts.getAttribute("data-" + name)) || name;
  }

  function say(message, tone) {
    if (!statusBox) return;
    statusBox.className = "alert alert-" + (tone || "info");
    statusBox.textContent = message;
    statusBox.hidden = !message;
  }

  function nothing() { return null; }

  if ("serviceWorker" in navigator && swUrl) {
    navigator.serviceWorker.register(swUrl, {scope: swUrl.replace(/[^/]*$/, "")})
      .catch(nothing);
  }

  // --- The phone's store (IndexedDB): the reports by key, the accounts by id ---------------

  var DB_NAME = "petitiondesk-grid";
  var REPORTS = "reports";
  var ACCOUNTS = "accounts";

  function openDb() {
    return new Promise(function (resolve, reject) {
      if (!window.indexedDB) { reject(new Error("no IndexedDB")); return; }
      var request = window.indexedDB.open(DB_NAME, 2);
      request.onupgradeneeded = function () {
        var db = request.result;
        if (!db.objectStoreNames.contains(REPORTS)) db.createObjectStore(REPORTS, {keyPath: "key"});
        if (!db.objectStoreNames.contains(ACCOUNTS)) db.createObjectStore(ACCOUNTS, {keyPath: "user"});
      };
      request.onsuccess = function () { resolve(request.result); };
      request.onerror = function () { reject(request.error); };
    });
  }

  function inStore(name, mode, work) {
    return openDb().then(function (db) {
      return new Promise(function (resolve, reject) {
        var transaction = db.transaction(name, mode);
        var request = work(transaction.objectStore(name));
        transaction.oncomplete = function () { db.close(); resolve(request && request.result); };
        transaction.onerror = transaction.onabort = function () {
          db.close();
          reject(transaction.error);
        };
      });
    });
  }

  function keep(record) { return inStore(REPORTS, "readwrite", function (store) { return store.put(record); }); }
  function drop(key) { return inStore(REPORTS, "readwrite", function (store) { return store.delete(key); }); }
  function all(name) {
    return inStore(name, "readonly", function (store) { return store.getAll(); })
      .then(function (records) { return records || []; }, function () { return []; });
  }
  function kept() { return all(REPORTS); }
  function remember(account) {
    return inStore(ACCOUNTS, "readwrite", function (store) { return store.put(account); });
  }

  // The account this phone last saw signed in, unless it was seen signing out.
  function lastAccount() {
    return all(ACCOUNTS).then(function (accounts) {
      return accounts.filter(function (account) { return !account.signedOut; })
        .sort(function (a, b) { return a.seenAt < b.seenAt ? 1 : -1; })[0] || null;
    });
  }

  // --- Who is signed in: asked of the server, never taken from the page --------------------

  // Resolves to the account signed in now, {signedOut: true} when nobody (or nobody who
  // reports) is, or null when the server cannot be reached. The address is not one the
  // service worker answers, and no-store keeps the browser's cache out of it too.
  function whoAmI() {
    return fetch(meUrl, {credentials: "same-origin", cache: "no-store",
      headers: {"Accept": "application/json"}})
      .then(function (response) {
        var type = response.headers.get("Content-Type") || "";
        if (!response.ok || type.indexOf("application/json") !== 0) return {signedOut: true};
        return response.json().then(function (answer) {
          csrf = answer.csrf;
          var account = {user: answer.user, name: answer.name, grids: answer.grids,
            logout: answer.logout, seenAt: new Date().toISOString()};
          me = account;
          showAccount(account);
          return remember(account).catch(nothing).then(function () { return account; });
        });
      }, nothing);
  }

  // The kept form (data-offline) shows whom it reports for and offers their grids.
  function showAccount(account) {
    if (!offline) return;
    var who = form.querySelector("[data-grid-who]");
    if (who) {
      who.className = "alert " + (account ? "alert-info" : "alert-warning");
      who.textContent = account ? t("as") + " " + account.name : t("nobody");
      who.hidden = false;
    }
    var select = form.querySelector("select[name=grid]");
    if (!select || !account) return;
    var chosen = select.value;
    select.textContent = "";
    account.grids.forEach(function (grid) {
      var option = document.createElement("option");
      option.value = String(grid.id);
      option.textContent = grid.label;
      select.appendChild(option);
    });
    if (chosen) select.value = chosen;
  }

  // Signing out from this page: the phone forgets whom it reports for (the kept reports stay).
  function watchSignOut(account) {
    Array.prototype.forEach.call(document.querySelectorAll("form"), function (element) {
      if (new URL(element.action, window.location.href).pathname !== account.logout) return;
      element.addEventListener("submit", function (event) {
        event.preventDefault();
        var go = function () { element.submit(); };
        account.signedOut = true;
        Promise.race([remember(account), new Promise(function (resolve) {
          window.setTimeout(resolve, 1000);
        })]).then(go, go);
      });
    });
  }

  // --- Sending ------------------------------------------------------------------------------

  function token() {
    var input = form.querySelector("input[name=csrfmiddlewaretoken]");
    return csrf || (input ? input.value : "");
  }

  function body(record, live) {
    var data = new FormData();
    record.fields.forEach(function (pair) { data.append(pair[0], pair[1]); });
    record.photos.forEach(function (photo) { data.append("photos", photo.blob, photo.name); });
    data.append("typed_by", String(record.owner));
    if (live) data.append("live", "1");
    return data;
  }

  // Resolves to {kind: "sent"|"refused"|"other"|"later"|"offline", ...}; never rejects.
  function send(record, live, retried) {
    return fetch(syncUrl, {
      method: "POST", body: body(record, live), credentials: "same-origin",
      headers: {"X-CSRFToken": token(), "Accept": "application/json"}
    }).then(function (response) {
      var type = response.headers.get("Content-Type") || "";
      if (type.indexOf("application/json") !== 0) {
        if (response.status === 403 && !retried) {  // a token of an earlier sign-in
          return whoAmI().then(function () { return send(record, live, true); });
        }
        return {kind: "later", message: t(response.redirected ? "signin" : "failed")};
      }
      return response.json().then(function (answer) {
        if (answer.ok) return {kind: "sent", answer: answer};
        if (response.status === 400) return {kind: "refused", errors: answer.errors || []};
        if (response.status === 403) {
          return {kind: "refused", errors: [{field: "", message: answer.error}]};
        }
        if (response.status === 409) return {kind: "other", message: answer.error};
        return {kind: "later", message: answer.error || t("failed")};
      });
    }, function () {
      return {kind: "offline"};
    });
  }

  var syncing = false;

  function sendKept() {
    if (syncing || !navigator.onLine) return Promise.resolve();
    syncing = true;
    return whoAmI().then(function (now) {
      if (!now) return null;  // no signal after all
      return kept().then(function (records) {
        var waiting = records.filter(function (record) { return record.state === "pending"; });
        if (now.signedOut) {
          if (waiting.length) say(t("signin"), "warning");
          return null;
        }
        return waiting.filter(function (record) { return record.owner === now.user; })
          .reduce(function (previous, record) {
            return previous.then(function (stop) {
              if (stop) return true;
              return send(record, false).then(function (result) {
                if (result.kind === "sent") {
                  sentNow.push(result.answer);
                  return drop(record.key).then(function () { return false; });
                }
                if (result.kind === "refused") {
                  record.state = "refused";
                  record.errors = result.errors;
                  return keep(record).then(function () { return false; });
                }
                if (result.kind === "other") return false;  // stays for its owner
                if (result.message) say(result.message, "warning");
                return true;  // no signal, or not signed in: the rest wait too
              });
            });
          }, Promise.resolve(false));
      });
    }).catch(nothing).then(function () {
      syncing = false;
      return render();
    }).then(function () {
      if (pendingBox) pendingBox.setAttribute("data-grid-checked", String(Date.now()));
    });
  }

  // --- The list of kept reports -----------------------------------------------------------

  function fieldValue(record, name) {
    var pair = record.fields.filter(function (item) { return item[0] === name; })[0];
    return pair ? pair[1] : "";
  }

  function button(label, className, action) {
    var element = document.createElement("button");
    element.type = "button";
    element.className = "btn btn-sm " + className;
    element.textContent = label;
    element.addEventListener("click", action);
    return element;
  }

  function mine(record) {
    return Boolean(me) && record.owner === me.user;
  }

  function describe(record) {
    var item = document.createElement("li");
    item.setAttribute("data-grid-kept", record.key);
    item.setAttribute("data-grid-owner", mine(record) ? "me" : "other");
    var line = document.createElement("div");
    var found = fieldValue(record, "found_at").replace("T", " ");
    line.textContent = fieldValue(record, "place") + " · " + t("found") + " " + found +
      " · " + record.photos.length + " " + t("photos");
    item.appendChild(line);
    var state = document.createElement("div");
    state.className = "small";
    if (!mine(record)) {
      state.textContent = t("other-user");
    } else if (record.state === "refused") {
      state.className = "small text-danger";
      state.textContent = t("refused") + " " + record.errors.map(function (error) {
        return error.message;
      }).join(" ");
    } else {
      state.textContent = t("waiting");
    }
    item.appendChild(state);
    if (mine(record)) {
      var actions = document.createElement("div");
      actions.className = "d-flex flex-wrap gap-2 mt-1";
      if (record.state === "refused") {
        actions.appendChild(button(t("open"), "btn-outline-primary", function () {
          if (onList) {
            window.location.assign(formUrl + "#kept-" + record.key);
          } else {
            fill(record);
          }
        }));
      }
      actions.appendChild(button(t("discard"), "btn-outline-danger", function () {
        if (window.confirm(t("discard-confirm"))) drop(record.key).then(render);
      }));
      item.appendChild(actions);
    }
    return item;
  }

  function render() {
    if (!pendingBox || !pendingList) return Promise.resolve();
    return kept().then(function (records) {
      pendingList.textContent = "";
      sentNow.forEach(function (answer) {
        var item = document.createElement("li");
        item.setAttribute("data-grid-sent", answer.number);
        item.appendChild(document.createTextNode(t("sent") + " "));
        var link = document.createElement("a");
        link.href = answer.url;
        link.textContent = answer.number;
        item.appendChild(link);
        pendingList.appendChild(item);
      });
      records.sort(function (a, b) { return a.savedAt < b.savedAt ? -1 : 1; })
        .forEach(function (record) { pendingList.appendChild(describe(record)); });
      pendingBox.hidden = !records.length && !sentNow.length;
      var sendNow = pendingBox.querySelector("[data-grid-send-now]");
      if (sendNow) {
        sendNow.hidden = !records.some(function (record) {
          return mine(record) && record.state === "pending";
        });
      }
    });
  }

  // Whom this page reports for: the server's answer, or without signal the phone's memory.
  var known = (navigator.onLine ? whoAmI() : Promise.resolve(null)).then(function (now) {
    if (now && !now.signedOut) {
      watchSignOut(now);
      return now;
    }
    return lastAccount().then(function (account) {
      me = account;
      showAccount(account);
      return account;
    });
  });

  var sendNowButton = pendingBox && pendingBox.querySelector("[data-grid-send-now]");
  if (sendNowButton) sendNowButton.addEventListener("click", sendKept);
  window.addEventListener("online", sendKept);
  window.setInterval(function () { if (navigator.onLine) sendKept(); }, 60000);
  known.then(render).then(sendKept);

  if (onList) return;

  // --- The form itself --------------------------------------------------------------------

  var keyInput = form.querySelector("input[name=client_key]");
  var foundInput = form.querySelector("input[name=found_at]");

  function newKey() {
    if (window.crypto && window.crypto.randomUUID) return window.crypto.randomUUID();
    var bytes = new Uint8Array(16);
    window.crypto.getRandomValues(bytes);
    bytes[6] = (bytes[6] & 15) | 64;
    bytes[8] = (bytes[8] & 63) | 128;
    var hex = Array.prototype.map.call(bytes, function (byte) {
      return (byte + 256).toString(16).slice(1);
    }).join("");
    return [hex.slice(0, 8), hex.slice(8, 12), hex.slice(12, 16), hex.slice(16, 20),
      hex.slice(20)].join("-");
  }

  function localNow() {
    var now = new Date();
    now.setMinutes(now.getMinutes() - now.getTimezoneOffset());
    return now.toISOString().slice(0, 16);
  }

  function freshStart() {
    // A page the service worker kept was made once: each report gets its own key and time.
    if (keyInput) keyInput.value = newKey();
    if (foundInput) foundInput.value = localNow();
  }

  if (form.hasAttribute("data-fresh")) freshStart();

  // Photos: every camera shot or choice adds to the input, up to six.
  var photoInput = form.querySelector("[data-grid-photos]");
  var photoList = form.querySelector("[data-grid-photo-list]");
  var canHold = photoInput && typeof DataTransfer !== "undefined";
  var held = [];

  function size(bytes) {
    return bytes >= 1048576 ? (bytes / 1048576).toFixed(1) + " MB"
      : Math.ceil(bytes / 1024) + " KB";
  }

  function writePhotos() {
    if (!canHold) return;
    var transfer = new DataTransfer();
    held.forEach(function (file) { transfer.items.add(file); });
    photoInput.files = transfer.files;
    photoList.textContent = "";
    held.forEach(function (file, index) {
      var item = document.createElement("li");
      var name = document.createElement("span");
      name.textContent = file.name + " (" + size(file.size) + ")";
      item.appendChild(name);
      item.appendChild(button(t("remove"), "btn-outline-secondary", function () {
        held.splice(index, 1);
        writePhotos();
      }));
      photoList.appendChild(item);
    });
  }

  if (canHold) {
    photoInput.addEventListener("change", function () {
      var notes = [];
      Array.prototype.forEach.call(photoInput.files, function (file) {
        var same = held.some(function (kept) {
          return kept.name === file.name && kept.size === file.size &&
            kept.lastModified === file.lastModified;
        });
        if (same) return;
        if (!PHOTO_TYPES.test(file.type)) {
          notes.push(t("not-photo") + " " + file.name);
        } else if (file.size > MAX_BYTES) {
          notes.push(t("too-big") + " " + file.name);
        } else if (held.length >= MAX_PHOTOS) {
          if (notes.indexOf(t("too-many")) === -1) notes.push(t("too-many"));
        } else {
          held.push(file);
        }
      });
      writePhotos();
      say(notes.join(" "), "warning");
    });
  }

  function photos() {
    var files = canHold ? held : Array.prototype.slice.call(photoInput ? photoInput.files : []);
    return files.map(function (file) {
      return {name: file.name, type: file.type, blob: file};
    });
  }

  // Fields that matter only with a tick or a choice show with it (all show without script).
  function reveal() {
    var threat = form.querySelector("input[name=threat]");
    var group = form.querySelector("input[name=group_involved]");
    var settled = form.querySelector("input[name=outcome][value=settled]");
    [["threat_words", threat && threat.checked], ["group_size", group && group.checked],
      ["settled_how", settled && settled.checked]].forEach(function (pair) {
      var box = form.querySelector("[data-grid-field=" + pair[0] + "]");
      var input = box && box.querySelector("input, textarea");
      if (box) box.hidden = !pair[1] && !(input && input.value) && !box.querySelector(".text-danger");
    });
  }

  form.addEventListener("change", reveal);
  reveal();

  // Party rows: "Add another party" copies the empty row the template holds.
  var partyRows = form.querySelector("[data-grid-parties]");
  var partyTemplate = form.querySelector("[data-grid-party-template]");
  var addParty = form.querySelector("[data-grid-add-party]");
  var totalInput = form.querySelector("input[name=parties-TOTAL_FORMS]");
  var maxInput = form.querySelector("input[name=parties-MAX_NUM_FORMS]");

  function addPartyRow() {
    var index = parseInt(totalInput.value, 10);
    var holder = document.createElement("div");
    holder.innerHTML = partyTemplate.innerHTML.replace(/__prefix__/g, String(index))
      .replace(/__number__/g, String(index + 1));
    var row = holder.firstElementChild;
    partyRows.appendChild(row);
    totalInput.value = String(index + 1);
    addParty.hidden = index + 1 >= parseInt(maxInput.value, 10);
    return row;
  }

  function empty(row) {
    return !Array.prototype.some.call(row.querySelectorAll("input[type=text], input[type=tel]"),
      function (input) { return input.value; }) && !row.querySelector(".text-danger");
  }

  if (partyRows && partyTemplate && addParty && totalInput) {
    // The spare row the page brings for use without script waits behind the button.
    Array.prototype.forEach.call(partyRows.querySelectorAll("[data-grid-party]"),
      function (row, index) { if (index >= 2 && empty(row)) row.hidden = true; });
    addParty.hidden = false;
    addParty.addEventListener("click", function () {
      var row = partyRows.querySelector("[data-grid-party][hidden]");
      if (row) {
        row.hidden = false;
      } else {
        row = addPartyRow();
      }
      var name = row.querySelector("input[name$=-name]");
      if (name) name.focus();
    });
  }

  // Problems shown in place: the summary on top, each message at its field.
  function clearProblems() {
    form.querySelectorAll(".pd-js-error").forEach(function (element) { element.remove(); });
    form.querySelectorAll("[data-grid-invalid]").forEach(function (element) {
      element.classList.remove("is-invalid");
      element.removeAttribute("aria-invalid");
      element.removeAttribute("data-grid-invalid");
    });
  }

  function showProblems(errors) {
    clearProblems();
    var summary = document.createElement("div");
    summary.className = "alert alert-danger pd-error-summary pd-js-error";
    summary.setAttribute("role", "alert");
    summary.setAttribute("tabindex", "-1");
    var heading = document.createElement("h2");
    heading.className = "h6 mb-2";
    heading.textContent = t("problem");
    summary.appendChild(heading);
    var list = document.createElement("ul");
    list.className = "mb-0";
    errors.forEach(function (error) {
      var item = document.createElement("li");
      var field = error.field && document.getElementById(error.field);
      if (field) {
        var link = document.createElement("a");
        link.href = "#" + error.field;
        link.textContent = error.message;
        item.appendChild(link);
        var note = document.createElement("div");
        note.className = "text-danger small pd-js-error";
        note.id = error.field + "-error";
        note.textContent = error.message;
        var box = field.closest("[data-grid-field]");
        if (box) box.hidden = false;
        field.parentNode.insertBefore(note, field);
        field.classList.add("is-invalid");
        field.setAttribute("aria-invalid", "true");
        field.setAttribute("data-grid-invalid", "");
      } else {
        item.textContent = error.message;
      }
      list.appendChild(item);
    });
    summary.appendChild(list);
    form.insertBefore(summary, form.firstChild);
    summary.focus();
  }

  function capture() {
    var fields = [];
    Array.prototype.forEach.call(form.elements, function (element) {
      if (!element.name || element.disabled || element.name === "csrfmiddlewaretoken") return;
      if (["file", "submit", "button"].indexOf(element.type) !== -1) return;
      if ((element.type === "checkbox" || element.type === "radio") && !element.checked) return;
      fields.push([element.name, element.value]);
    });
    return {key: keyInput.value, owner: me.user, savedAt: new Date().toISOString(),
      fields: fields, photos: photos(), state: "pending", errors: []};
  }

  function startAgain() {
    form.reset();
    clearProblems();
    held = [];
    writePhotos();
    freshStart();
    reveal();
  }

  function keepOnPhone(record, message) {
    return keep(record).then(function () {
      startAgain();
      say(t("saved") + (message ? " " + message : ""), "warning");
      window.scrollTo(0, 0);
      return render();
    }, function () {
      say(t("no-storage"), "danger");
    });
  }

  // A kept report back in the form, photos and all, to be corrected and sent again.
  function fill(record) {
    form.reset();
    clearProblems();
    var rows = record.fields.filter(function (pair) { return pair[0] === "parties-TOTAL_FORMS"; });
    var wanted = rows.length ? parseInt(rows[0][1], 10) : 0;
    while (totalInput && parseInt(totalInput.value, 10) < wanted) addPartyRow();
    record.fields.forEach(function (pair) {
      form.querySelectorAll("[name='" + pair[0].replace(/'/g, "") + "']").forEach(function (element) {
        if (element.type === "checkbox" || element.type === "radio") {
          element.checked = element.type === "checkbox" || element.value === pair[1];
        } else if (element.type !== "file") {
          element.value = pair[1];
        }
      });
    });
    if (partyRows) {
      partyRows.querySelectorAll("[data-grid-party][hidden]").forEach(function (row) {
        if (!empty(row)) row.hidden = false;
      });
    }
    held = record.photos.map(function (photo) {
      return new File([photo.blob], photo.name, {type: photo.type});
    });
    writePhotos();
    reveal();
    showProblems(record.errors || []);
    say(t("opened"), "info");
  }

  var opening = /^#kept-(.+)$/.exec(window.location.hash);
  if (opening) {
    known.then(kept).then(function (records) {
      var record = records.filter(function (item) { return item.key === opening[1]; })[0];
      if (record && mine(record)) fill(record);
    });
  }

  var submitButton = form.querySelector("[data-grid-submit]");

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    known.then(submitted);
  });

  function submitted() {
    if (!me) {  // the kept form, on a phone that never saw its account signed in
      say(t("nobody"), "danger");
      return;
    }
    var record = capture();
    if (!navigator.onLine) {
      keepOnPhone(record);
      return;
    }
    submitButton.disabled = true;
    say(t("sending"), "info");
    send(record, true).then(function (result) {
      submitButton.disabled = false;
      if (result.kind === "sent") {
        drop(record.key).catch(function () { return null; }).then(function () {
          window.location.assign(result.answer.url);
        });
      } else if (result.kind === "refused") {
        say("", "info");
        showProblems(result.errors);
      } else {
        keepOnPhone(record, result.message);
      }
    });
  }
}());
