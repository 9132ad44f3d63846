// "Copy as text" buttons: fetch the plain-text URL in data-copy-url and put it on the clipboard.
// Hidden without JavaScript; the download link beside them works everywhere.
(function () {
  "use strict";
  function setUp(root) {
    root.querySelectorAll("button[data-copy-url]").forEach(function (button) {
      if (!navigator.clipboard) return;
      button.hidden = false;
      if (button.dataset.ready) return;
      button.dataset.ready = "1";
      button.addEventListener("click", function () {
        var status = document.getElementById(button.getAttribute("aria-controls"));
        fetch(button.dataset.copyUrl, { credentials: "same-origin" })
          .then(function (response) {
            if (!response.ok) throw new Error(response.status);
            return response.text();
          })
          .then(function (text) { return navigator.clipboard.writeText(text); })
          .then(function () { if (status) status.textContent = "Copied."; })
          .catch(function () { if (status) status.textContent = "Could not copy: use Download."; });
      });
    });
  }
  document.addEventListener("DOMContentLoaded", function () { setUp(document); });
  document.addEventListener("htmx:load", function (event) { setUp(event.target); });
})();
