// The totals strip above the call list: its "Charts" button shows or hides the totals' charts
// and details, and the choice is kept in a cookie that the server reads, so the next list (and
// every totals fragment) arrives already open or closed: nothing flashes or jumps on a reload.
// The totals are swapped in by htmx, so one listener on the document serves every swap.
(function () {
  "use strict";
  var COOKIE = "totals_open";
  var YEAR = 365 * 24 * 3600;

  function remember(open) {
    var secure = location.protocol === "https:" ? "; secure" : "";
    document.cookie =
      COOKIE + "=" + (open ? "1" : "0") + "; path=/; max-age=" + YEAR + "; samesite=lax" + secure;
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("[data-totals-toggle]");
    if (!button) return;
    var open = button.getAttribute("aria-expanded") !== "true";
    var panel = document.getElementById(button.getAttribute("aria-controls"));
    button.setAttribute("aria-expanded", String(open));
    if (panel) panel.hidden = !open;
    var totals = button.closest(".totals");
    if (totals) totals.classList.toggle("is-open", open);
    remember(open);
  });
})();
