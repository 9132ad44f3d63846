// Find in the transcript: every match marked, "3 of 1,712", Enter / the arrows step through them.
// The whole phrase is looked for first; when it is nowhere, each of its words is (as the list's
// search finds a call by its words, in any order). Opened from a search hit (?find=…&t=…), the
// box starts filled and the current match is the first one in or after the hit's turn.
// Matches are wrapped in <mark> by splitting text nodes, so transcript text is never parsed
// as HTML. Where they are goes to the player's strip (player.js) as a "truedy:matches" event.
(function () {
  "use strict";
  var reducedMotion = window.matchMedia("(prefers-reduced-motion: reduce)");
  var numbers = new Intl.NumberFormat("en-US"); // "1,712", as the page's "2,000 turns"

  function clear(list) {
    list.querySelectorAll("mark[data-match]").forEach(function (mark) {
      var parent = mark.parentNode;
      parent.replaceChild(document.createTextNode(mark.textContent), mark);
      parent.normalize();
    });
  }

  // The first place at or after `from` where one of `needles` (longest first) occurs.
  function nextHit(haystack, needles, from) {
    var best = null;
    needles.forEach(function (needle) {
      var at = haystack.indexOf(needle, from);
      if (at >= 0 && (best === null || at < best.at)) best = { at: at, length: needle.length };
    });
    return best;
  }

  function markAll(list, needles) {
    var marks = [];
    list.querySelectorAll(".turn > p").forEach(function (paragraph) {
      var walker = document.createTreeWalker(paragraph, NodeFilter.SHOW_TEXT);
      var nodes = [];
      while (walker.nextNode()) nodes.push(walker.currentNode);
      nodes.forEach(function (node) {
        var text = node.nodeValue;
        var haystack = text.toLocaleLowerCase();
        var hit = nextHit(haystack, needles, 0);
        if (!hit || haystack.length !== text.length) return;
        var fragment = document.createDocumentFragment();
        var from = 0;
        while (hit) {
          fragment.appendChild(document.createTextNode(text.slice(from, hit.at)));
          var mark = document.createElement("mark");
          mark.dataset.match = "";
          mark.textContent = text.slice(hit.at, hit.at + hit.length);
          fragment.appendChild(mark);
          marks.push(mark);
          from = hit.at + hit.length;
          hit = nextHit(haystack, needles, from);
        }
        fragment.appendChild(document.createTextNode(text.slice(from)));
        node.parentNode.replaceChild(fragment, node);
      });
    });
    return marks;
  }

  function words(query) {
    var seen = {};
    return query
      .toLocaleLowerCase()
      .split(/\s+/)
      .filter(function (word) {
        if (!word || seen[word]) return false;
        seen[word] = true;
        return true;
      })
      .sort(function (a, b) {
        return b.length - a.length; // so "call" does not cut "callback" short
      });
  }

  function turnOf(mark) {
    return mark.closest(".turn");
  }

  function turnNumber(turn) {
    return turn ? parseInt(turn.id.replace("turn-", ""), 10) : NaN;
  }

  function setUp(box) {
    if (box.dataset.ready) return;
    box.dataset.ready = "1";
    box.hidden = false;
    var input = box.querySelector("[data-search]");
    var count = box.querySelector("[data-search-count]");
    if (!input) return;
    var marks = [];
    var current = -1;
    var byWord = false;
    var lastQuery = "";

    // The transcript this box searches: looked up each time, as htmx may swap it in after the box.
    function transcript() {
      return document.getElementById("transcript-turns");
    }

    function announce() {
      var starts = [];
      var seen = {};
      marks.forEach(function (mark) {
        var turn = turnOf(mark);
        if (turn && !seen[turn.id]) {
          seen[turn.id] = true;
          starts.push(parseFloat(turn.dataset.start));
        }
      });
      var now = current >= 0 && marks[current] ? turnOf(marks[current]) : null;
      document.dispatchEvent(
        new CustomEvent("truedy:matches", {
          detail: { starts: starts, current: now ? parseFloat(now.dataset.start) : null },
        })
      );
    }

    function show(index) {
      if (!marks.length) return;
      if (current >= 0 && marks[current]) marks[current].classList.remove("current");
      current = (index + marks.length) % marks.length;
      var mark = marks[current];
      mark.classList.add("current");
      mark.scrollIntoView({ block: "center", behavior: reducedMotion.matches ? "auto" : "smooth" });
      count.textContent =
        numbers.format(current + 1) +
        " of " +
        numbers.format(marks.length) +
        (byWord ? " (words)" : "");
      announce();
    }

    // `near`: a turn number; the current match becomes the first one in or after that turn.
    function search(near) {
      var list = transcript();
      if (!list) return;
      clear(list);
      marks = [];
      current = -1;
      byWord = false;
      var query = input.value.trim();
      lastQuery = query;
      if (query) {
        marks = markAll(list, [query.toLocaleLowerCase()]);
        var each = words(query);
        if (!marks.length && each.length > 1) {
          marks = markAll(list, each);
          byWord = marks.length > 0;
        }
      }
      if (!marks.length) {
        count.textContent = query ? "No matches" : "";
        announce();
        return;
      }
      var first = 0;
      if (near) {
        first = marks.findIndex(function (mark) {
          return turnNumber(turnOf(mark)) >= near;
        });
        if (first < 0) first = 0;
      }
      show(first);
    }

    var timer = null;
    input.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(search, 120);
    });
    input.addEventListener("keydown", function (event) {
      if (event.key === "Enter") {
        event.preventDefault();
        clearTimeout(timer);
        if (input.value.trim() !== lastQuery) {
          search();
        } else {
          show(current + (event.shiftKey ? -1 : 1));
        }
      } else if (event.key === "Escape") {
        input.value = "";
        search();
        input.blur();
      }
    });
    box.querySelectorAll("[data-search-step]").forEach(function (button) {
      button.addEventListener("click", function () {
        if (marks.length) show(current + parseInt(button.dataset.searchStep, 10));
      });
    });
    // Filled by the page (a search hit's words): find them straight away.
    if (input.value.trim()) search(parseInt(input.dataset.findNear, 10) || 0);
  }

  function setUpAll(root) {
    var scope = root && root.querySelectorAll ? root : document;
    scope.querySelectorAll("[data-search-box]").forEach(setUp);
  }

  document.addEventListener("DOMContentLoaded", function () {
    setUpAll(document);
  });
  document.addEventListener("htmx:load", function (event) {
    setUpAll(event.target);
  });
})();
