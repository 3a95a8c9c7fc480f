/*
 * Attachments at intake (/cases/intake/): a drop zone around the ordinary file input.
 *
 * Files dropped on the zone, or chosen with the input (keyboard: Tab to it, Space or
 * Enter opens the picker), are held here and written back into the input through a
 * DataTransfer, so the form's plain POST carries them: no upload request of its own,
 * nothing that works only with this script. Each file gets its own "accusation
 * material" box (name new_accusation, value = its position in the input) and a remove
 * button; the single box for all files, there for pages without JavaScript, goes.
 * The server checks every file and keeps the good ones under the form's token.
 */
(function () {
  "use strict";

  var zone = document.querySelector("[data-intake-drop]");
  if (!zone) return;
  var input = zone.querySelector("input[type=file]");
  var list = document.querySelector("[data-intake-new-files]");
  var allBox = document.querySelector("[data-intake-new-all]");
  if (!input || !list || typeof DataTransfer === "undefined") return;

  var held = [];  // the files the input will carry, in order
  var flagged = [];  // their accusation-material ticks

  if (allBox) allBox.remove();
  var hint = zone.querySelector("[data-intake-drop-hint]");
  if (hint) hint.hidden = false;

  function sameFile(a, b) {
    return a.name === b.name && a.size === b.size && a.lastModified === b.lastModified;
  }

  function add(files) {
    Array.prototype.forEach.call(files, function (file) {
      if (!held.some(function (kept) { return sameFile(kept, file); })) {
        held.push(file);
        flagged.push(false);
      }
    });
    sync();
  }

  function sync() {
    var transfer = new DataTransfer();
    held.forEach(function (file) { transfer.items.add(file); });
    input.files = transfer.files;
    render();
  }

  function size(bytes) {
    if (bytes >= 1048576) return (bytes / 1048576).toFixed(1) + " MB";
    if (bytes >= 1024) return Math.ceil(bytes / 1024) + " KB";
    return bytes + " B";
  }

  function render() {
    list.textContent = "";
    held.forEach(function (file, index) {
      var item = document.createElement("li");
      item.className = "pd-new-file d-flex flex-wrap align-items-center gap-3 py-1";
      item.setAttribute("data-new-file", file.name);

      var name = document.createElement("span");
      name.id = "pd-new-file-" + index;
      name.textContent = file.name + " (" + size(file.size) + ")";

      var check = document.createElement("span");
      check.className = "form-check mb-0";
      var box = document.createElement("input");
      box.type = "checkbox";
      box.className = "form-check-input";
      box.name = "new_accusation";
      box.value = String(index);
      box.id = "pd-new-file-" + index + "-accusation";
      box.checked = flagged[index];
      box.setAttribute("aria-describedby", name.id);  // which file the tick is for
      box.addEventListener("change", function () { flagged[index] = box.checked; });
      var label = document.createElement("label");
      label.className = "form-check-label";
      label.htmlFor = box.id;
      label.textContent = zone.getAttribute("data-msg-accusation");
      check.appendChild(box);
      check.appendChild(label);

      var remove = document.createElement("button");
      remove.type = "button";
      remove.className = "btn btn-sm btn-outline-secondary";
      remove.textContent = zone.getAttribute("data-msg-remove");
      remove.setAttribute("aria-describedby", name.id);
      remove.addEventListener("click", function () {
        held.splice(index, 1);
        flagged.splice(index, 1);
        sync();
        input.focus();
      });

      item.appendChild(name);
      item.appendChild(check);
      item.appendChild(remove);
      list.appendChild(item);
    });
  }

  // Choosing with the picker adds to what was dropped instead of replacing it.
  input.addEventListener("change", function () {
    var chosen = Array.prototype.slice.call(input.files);
    if (chosen.length === held.length && chosen.every(function (file, i) { return file === held[i]; })) {
      return;  // our own write-back
    }
    add(chosen);
  });

  ["dragenter", "dragover"].forEach(function (name) {
    zone.addEventListener(name, function (event) {
      event.preventDefault();
      zone.classList.add("pd-drop-active");
    });
  });
  ["dragleave", "dragend"].forEach(function (name) {
    zone.addEventListener(name, function () { zone.classList.remove("pd-drop-active"); });
  });
  zone.addEventListener("drop", function (event) {
    event.preventDefault();
    zone.classList.remove("pd-drop-active");
    if (event.dataTransfer && event.dataTransfer.files.length) add(event.dataTransfer.files);
  });
  // A file dropped beside the zone must not make the browser leave the half-filled form.
  ["dragover", "drop"].forEach(function (name) {
    window.addEventListener(name, function (event) {
      if (!zone.contains(event.target)) event.preventDefault();
    });
  });
})();
