// A notice just printed (the Print button's POST was recorded) opens the print dialogue.
document.addEventListener("DOMContentLoaded", () => {
  if (document.body.hasAttribute("data-print-now")) {
    window.print();
  }
});
