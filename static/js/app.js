/*
 * PetitionDesk — small page behaviours. No dependencies besides the
 * (optional) Bootstrap bundle and htmx loaded before this file.
 *
 *  - <form data-confirm="确定要撤销该案件吗？"> asks before submitting.
 *    A submit button may carry its own data-confirm, which wins.
 *  - <a data-confirm="..."> asks before following the link.
 *  - Forms with data-once: submit buttons are disabled after the first
 *    submit, so a slow network does not register the same petition twice.
 *  - htmx request errors show a short alert in the messages area.
 *    Messages come from data-* attributes on <body> (translated there).
 *  - An htmx form with data-swap-conflict swaps in a 409 answer (the step form
 *    saying someone else moved the case first) instead of treating it as an error.
 *
 * The Content Security Policy allows no inline script and no eval: behaviour goes
 * here or in another file under static/js/, never into on*="" or hx-on attributes.
 */
(function () {
  "use strict";

  function confirmed(message) {
    return !message || window.confirm(message);
  }

  // Confirm before submitting forms (capture phase: runs before htmx).
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!(form instanceof HTMLFormElement)) return;
    var submitter = event.submitter;
    var message = (submitter && submitter.getAttribute("data-confirm")) ||
      form.getAttribute("data-confirm");
    if (!confirmed(message)) {
      event.preventDefault();
      event.stopImmediatePropagation();
      return;
    }
    if (form.hasAttribute("data-once")) {
      // Defer so the submitter's name/value is still included in the request.
      window.setTimeout(function () {
        form.querySelectorAll("button[type=submit], input[type=submit], button:not([type])")
          .forEach(function (btn) { btn.disabled = true; });
      }, 0);
    }
  }, true);

  // Confirm before following links.
  document.addEventListener("click", function (event) {
    var link = event.target.closest && event.target.closest("a[data-confirm]");
    if (link && !confirmed(link.getAttribute("data-confirm"))) {
      event.preventDefault();
      event.stopImmediatePropagation();
    }
  }, true);

  // Re-enable data-once buttons when the page comes back from the bfcache.
  window.addEventListener("pageshow", function (event) {
    if (!event.persisted) return;
    document.querySelectorAll("form[data-once] [disabled]").forEach(function (el) {
      el.disabled = false;
    });
  });

  function showAlert(text) {
    var area = document.getElementById("pd-messages");
    if (!area || !text) return;
    var alert = document.createElement("div");
    alert.className = "alert alert-danger alert-dismissible fade show";
    alert.setAttribute("role", "alert");
    alert.textContent = text;
    var close = document.createElement("button");
    close.type = "button";
    close.className = "btn-close";
    close.setAttribute("data-bs-dismiss", "alert");
    close.setAttribute("aria-label", document.body.getAttribute("data-msg-close") || "Close");
    alert.appendChild(close);
    area.appendChild(alert);
  }

  // A 409 on a data-swap-conflict form is an answer to show, not a failure.
  document.addEventListener("htmx:beforeSwap", function (event) {
    var detail = event.detail;
    var source = event.target;  // the element that made the request: the form
    if (detail && detail.xhr && detail.xhr.status === 409 &&
        source.closest && source.closest("[data-swap-conflict]")) {
      detail.shouldSwap = true;
      detail.isError = false;
    }
  });

  // htmx 2 does not swap 4xx/5xx responses; tell the user something went wrong.
  document.addEventListener("htmx:responseError", function (event) {
    var status = event.detail && event.detail.xhr ? event.detail.xhr.status : 0;
    var body = document.body;
    if (status === 403) {
      showAlert(body.getAttribute("data-msg-forbidden"));
    } else {
      showAlert(body.getAttribute("data-msg-error"));
    }
  });
  document.addEventListener("htmx:sendError", function () {
    showAlert(document.body.getAttribute("data-msg-network"));
  });
})();
