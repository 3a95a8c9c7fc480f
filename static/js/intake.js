/*
 * The intake form (/cases/intake/): small helps for the desk. The page works without them.
 *
 *  - The postal reference shows for letters only.
 *  - An 18-character resident ID, typed or entered by a card reader that types like a
 *    keyboard, fills the birth date and the sex, is checked (GB 11643 check digit) and
 *    moves the focus on to the next field. Enter in the ID field (card readers often send
 *    one) moves on too instead of submitting the half-filled form.
 *  - Repeat detection: each earlier case offered (htmx swaps the list into #pd-repeats)
 *    gets a button that puts its number into "Repeat of"; the "Look for earlier cases"
 *    submit button, there for pages without JavaScript, is hidden.
 *  - "First petition" follows the search's proposal (ticked when no earlier case of the
 *    person is found) until the clerk sets it by hand; linking a repeat unticks it.
 *  - The words of a threat show only while "threat made" is ticked (GOV.UK's conditional
 *    reveal); without JavaScript they are always shown.
 *  - The htmx look-ups are started from here: typing an ID or a phone number sends
 *    "pd-lookup" to its petitioner row; the facts, an ID or a phone send
 *    "pd-repeats-input", the place or an address "pd-repeats-change", to #pd-repeats.
 *    (htmx trigger filters would do it in the template, but they need eval, which the
 *    Content Security Policy does not allow.)
 */
(function () {
  "use strict";

  var form = document.getElementById("pd-intake-form");
  if (!form) return;

  var WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
  var CHECK = "10X98765432";
  var FULL = "０１２３４５６７８９";

  function normalise(value) {
    var out = "";
    for (var i = 0; i < value.length; i++) {
      var ch = value.charAt(i), at = FULL.indexOf(ch);
      if (at >= 0) ch = String(at);
      else if (ch === "x" || ch === "ｘ" || ch === "Ｘ") ch = "X";
      if (ch !== " ") out += ch;
    }
    return out;
  }

  function checkDigit(first17) {
    var total = 0;
    for (var i = 0; i < 17; i++) total += Number(first17.charAt(i)) * WEIGHTS[i];
    return CHECK.charAt(total % 11);
  }

  function realDate(y, m, d) {
    var date = new Date(Date.UTC(y, m - 1, d));
    return date.getUTCFullYear() === y && date.getUTCMonth() === m - 1 && date.getUTCDate() === d;
  }

  function nextField(from) {
    var fields = Array.prototype.filter.call(
      form.querySelectorAll("input, select, textarea, button"),
      function (el) { return !el.disabled && el.type !== "hidden" && el.tabIndex >= 0 && el.offsetParent !== null; });
    var at = fields.indexOf(from);
    // Skip the ID type's neighbours that JS fills (sex): go to the phone, else the next field.
    var row = from.closest("[data-intake-row]");
    var phone = row && row.querySelector("[data-intake-phone]");
    return phone || fields[at + 1];
  }

  function rowOf(input) { return input.closest("[data-intake-row]"); }

  function field(row, name) {
    return row.querySelector("[name$='-" + name + "']");
  }

  function showError(input, message) {
    var id = input.id + "-jserror", box = document.getElementById(id);
    if (!message) {
      if (box) box.remove();
      if (!input.closest(".pd-field-error")) input.classList.remove("is-invalid");
      return;
    }
    if (!box) {
      box = document.createElement("div");
      box.id = id;
      box.className = "invalid-feedback d-block";
      input.parentNode.insertBefore(box, input);
    }
    box.textContent = message;
    input.classList.add("is-invalid");
  }

  function onIdInput(input, moveOn) {
    var row = rowOf(input), type = field(row, "id_type");
    var output = row.querySelector("[data-intake-birth]");
    if (type && type.value !== "resident_id") return;
    var number = normalise(input.value);
    if (number !== input.value) input.value = number;
    if (number.length < 18) {
      showError(input, "");
      if (output) output.textContent = "—";
      return;
    }
    var y = Number(number.substr(6, 4)), m = Number(number.substr(10, 2)), d = Number(number.substr(12, 2));
    if (!/^[0-9]{17}[0-9X]$/.test(number) || !realDate(y, m, d)) {
      showError(input, form.getAttribute("data-msg-format"));
      return;
    }
    var expected = checkDigit(number.substr(0, 17));
    if (number.charAt(17) !== expected) {
      showError(input, form.getAttribute("data-msg-check").replace("%(expected)s", expected));
      return;
    }
    showError(input, "");
    if (output) output.textContent = number.substr(6, 4) + "-" + number.substr(10, 2) + "-" + number.substr(12, 2);
    var sex = field(row, "sex");
    if (sex && (!sex.value || sex.dataset.filled)) {
      sex.value = Number(number.charAt(16)) % 2 ? "M" : "F";
      sex.dataset.filled = "1";
    }
    if (moveOn) {
      var next = nextField(input);
      if (next) next.focus();
    }
  }

  form.addEventListener("input", function (event) {
    var input = event.target;
    if (input.hasAttribute && input.hasAttribute("data-intake-id")) {
      var length = normalise(input.value).length;
      onIdInput(input, length === 18 && document.activeElement === input);
    }
  });

  function send(target, name) {
    if (target) target.dispatchEvent(new CustomEvent(name, { bubbles: false }));
  }
  function matches(el, selector) {
    return el && el.matches && el.matches(selector);
  }
  form.addEventListener("input", function (event) {
    var input = event.target;
    if (matches(input, "[data-intake-id],[data-intake-phone]")) {
      send(input.closest("[data-intake-row]"), "pd-lookup");
    }
    if (matches(input, "#id_summary,[data-intake-id],[data-intake-phone]")) {
      send(document.getElementById("pd-repeats"), "pd-repeats-input");
    }
  });
  form.addEventListener("change", function (event) {
    if (matches(event.target, "#id_place_unit,[data-intake-address]")) {
      send(document.getElementById("pd-repeats"), "pd-repeats-change");
    }
  });

  form.addEventListener("keydown", function (event) {
    var input = event.target;
    if (event.key === "Enter" && input.hasAttribute && input.hasAttribute("data-intake-id")) {
      event.preventDefault();
      var next = nextField(input);
      if (next) next.focus();
    }
  });

  // The postal reference is for letters.
  function showLetterFields() {
    var checked = form.querySelector("input[name='channel']:checked");
    var letter = checked && checked.value === "letter";
    form.querySelectorAll("[data-intake-letter]").forEach(function (el) { el.hidden = !letter; });
  }
  form.addEventListener("change", function (event) {
    if (event.target.name === "channel") showLetterFields();
  });
  showLetterFields();

  // Repeat detection: the buttons work only with JavaScript, so they are shown by it.
  function showRepeatButtons() {
    form.querySelectorAll("[data-repeat-number]").forEach(function (el) { el.hidden = false; });
  }
  form.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("[data-repeat-number]");
    if (!button) return;
    var repeatOf = form.querySelector("[name='repeat_of']");
    if (!repeatOf) return;
    if (firstPetition) firstPetition.checked = false;  // a repeat is no first petition
    repeatOf.value = button.getAttribute("data-repeat-number");
    repeatOf.dispatchEvent(new Event("change", { bubbles: true }));
    repeatOf.focus();
  });
  // "First petition": the proposal the repeat search sends, unless the clerk chose.
  var firstPetition = form.querySelector("[name='is_first_petition']");
  if (firstPetition) {
    firstPetition.addEventListener("change", function () { firstPetition.dataset.byHand = "1"; });
  }
  function followProposal() {
    var proposal = form.querySelector("[data-first-petition]");
    var repeatOf = form.querySelector("[name='repeat_of']");
    if (!proposal || !firstPetition || firstPetition.dataset.byHand) return;
    if (repeatOf && repeatOf.value.trim()) return;
    firstPetition.checked = proposal.getAttribute("data-first-petition") === "1";
  }
  document.body.addEventListener("htmx:afterSwap", function (event) {
    if (event.target && event.target.id === "pd-repeats") {
      showRepeatButtons();
      followProposal();
    }
  });

  // The words of a threat: shown while the threat is ticked, or while they hold an error.
  var threat = form.querySelector("[data-intake-threat]");
  var threatWords = form.querySelector("[data-intake-threat-words]");
  function showThreatWords() {
    if (!threat || !threatWords) return;
    threatWords.hidden = !threat.checked && !threatWords.querySelector(".pd-field-error");
  }
  if (threat) threat.addEventListener("change", showThreatWords);
  showThreatWords();
  showRepeatButtons();
  form.querySelectorAll("[data-repeats-check]").forEach(function (el) { el.hidden = true; });

  // Back from an error: the summary takes the focus, so a screen reader reads it first.
  var summary = document.getElementById("pd-error-summary");
  if (summary) summary.focus();
})();
