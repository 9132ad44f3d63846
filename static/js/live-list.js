// The call list, live: rows of calls that are queued, ringing, in progress or being transcribed
// (rows with data-watch) are replaced in place when they change, their running time counts on
// each second, "Live now: N" says how many of the view's calls are live, and on the first page
// calls newer than the top row are offered as "Show 2 new calls" (and announced politely).
//
// New calls are not pushed in above the rows someone is reading: they wait behind the button,
// which reloads the first page (htmx, as the pager does) with them at its top, marked for a
// moment, focus on the first. Nothing under the reader's pointer moves until they ask.
(function () {
  "use strict";
  var live = window.truedyLive;
  if (!live) return;
  var MARK_MS = 4000;
  var announced = 0; // new calls already announced for this page
  var before = null; // the row ids shown when "Show new calls" was pressed

  function strip() {
    return document.querySelector("#results [data-live-list]");
  }

  function rowOf(callId) {
    return document.querySelector('#results tbody tr[data-call-id="' + CSS.escape(callId) + '"]');
  }

  function url() {
    var here = strip();
    if (!here) return null;
    var params = ["rows=1"];
    var watched = [];
    document.querySelectorAll("#results tbody tr[data-watch]").forEach(function (row) {
      watched.push(row.dataset.callId + ":" + row.dataset.progress); // only newer rows come back
    });
    if (watched.length) params.push("watch=" + encodeURIComponent(watched.join(",")));
    var top = document.querySelector("#results tbody tr[data-created]");
    if (here.hasAttribute("data-first-page") && top) {
      params.push("top=" + encodeURIComponent(top.dataset.created));
    }
    var base = here.dataset.liveUrl;
    return base + (/[?&]$/.test(base) ? "" : base.indexOf("?") < 0 ? "?" : "&") + params.join("&");
  }

  function mark(row, kind) {
    row.classList.add(kind);
    setTimeout(function () {
      row.classList.remove(kind);
    }, MARK_MS);
  }

  function replaceRow(row, html) {
    var template = document.createElement("template");
    template.innerHTML = html;
    var fresh = template.content.querySelector("tr");
    if (!fresh) return;
    var focused = row.contains(document.activeElement);
    if (row.classList.contains("selected")) fresh.classList.add("selected");
    row.replaceWith(fresh);
    mark(fresh, "live-changed");
    if (focused) {
      var link = fresh.querySelector("a.row-link");
      if (link) link.focus({ preventScroll: true });
    }
  }

  function apply(answer) {
    var here = strip();
    if (!here || answer.paused) return; // nothing is known meanwhile: keep what is shown
    Object.keys(answer.rows || {}).forEach(function (callId) {
      var found = answer.rows[callId];
      var row = rowOf(callId);
      if (row && found.html && live.newer(found.progress, row.dataset.progress)) {
        replaceRow(row, found.html);
      }
    });
    var now = here.querySelector("[data-live-now]");
    if (answer.live_now !== null && answer.live_now !== undefined) {
      here.querySelector("[data-live-count]").textContent = answer.live_now;
      now.hidden = false;
    }
    var show = here.querySelector("[data-live-show]");
    var count = answer.new || 0;
    show.hidden = count === 0;
    show.textContent = "Show " + count + " new call" + (count === 1 ? "" : "s");
    if (count > announced) {
      here.querySelector("[data-live-announce]").textContent =
        count + " new call" + (count === 1 ? "" : "s");
    }
    announced = count;
    tick();
  }

  function note(text) {
    var here = strip();
    var box = here && here.querySelector("[data-live-note]");
    if (box && box.textContent !== text) box.textContent = text;
  }

  var poller = new live.Poller({ url: url, apply: apply, note: note });

  // The running time of each live row, counted on from the server's clock.
  function tick() {
    var now = poller.serverNow();
    if (now === null) return;
    document.querySelectorAll("#results tbody tr[data-live-since]").forEach(function (row) {
      var cell = row.querySelector('td[data-label="Duration"]');
      if (cell) cell.textContent = live.duration((now - Number(row.dataset.liveSince)) / 1000);
    });
  }
  setInterval(tick, 1000);

  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("#results [data-live-show]");
    if (!button || !window.htmx) return;
    before = {};
    document.querySelectorAll("#results tbody tr[data-call-id]").forEach(function (row) {
      before[row.dataset.callId] = true;
    });
    window.htmx.ajax("GET", strip().dataset.listUrl, { target: "#results", swap: "innerHTML" });
  });

  // New results (a filter, a page, the new calls shown): follow what they show now.
  document.addEventListener("htmx:afterSettle", function (event) {
    if (event.target.id !== "results") return;
    announced = 0;
    if (before) {
      var arrived = [];
      document.querySelectorAll("#results tbody tr[data-call-id]").forEach(function (row) {
        if (!before[row.dataset.callId]) arrived.push(row);
      });
      before = null;
      arrived.forEach(function (row) {
        mark(row, "live-arrived");
      });
      var link = arrived.length && arrived[0].querySelector("a.row-link");
      if (link) link.focus();
    }
    poller.restart();
  });

  if (strip()) poller.start(0);
})();
