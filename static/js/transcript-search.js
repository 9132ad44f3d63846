// Find in the transcript: every match marked, "3 of 7", Enter / the arrows step through them.
// Matches are wrapped in <mark> by splitting text nodes, so transcript text is never parsed
// as HTML.
(function () {
  "use strict";
  var reducedMotion = window.matchMedia("(prefers-reduced-motion: reduce)");

  function clear(list) {
    list.querySelectorAll("mark[data-match]").forEach(function (mark) {
      var parent = mark.parentNode;
      parent.replaceChild(document.createTextNode(mark.textContent), mark);
      parent.normalize();
    });
  }

  function markAll(list, query) {
    var needle = query.toLocaleLowerCase();
    var marks = [];
    list.querySelectorAll(".turn > p").forEach(function (paragraph) {
      var walker = document.createTreeWalker(paragraph, NodeFilter.SHOW_TEXT);
      var nodes = [];
      while (walker.nextNode()) nodes.push(walker.currentNode);
      nodes.forEach(function (node) {
        var text = node.nodeValue;
        var haystack = text.toLocaleLowerCase();
        var at = haystack.indexOf(needle);
        if (at < 0 || haystack.length !== text.length) return;
        var fragment = document.createDocumentFragment();
        var from = 0;
        while (at >= 0) {
          fragment.appendChild(document.createTextNode(text.slice(from, at)));
          var mark = document.createElement("mark");
          mark.dataset.match = "";
          mark.textContent = text.slice(at, at + needle.length);
          fragment.appendChild(mark);
          marks.push(mark);
          from = at + needle.length;
          at = haystack.indexOf(needle, from);
        }
        fragment.appendChild(document.createTextNode(text.slice(from)));
        node.parentNode.replaceChild(fragment, node);
      });
    });
    return marks;
  }

  function setUp(box) {
    if (box.dataset.ready) return;
    box.dataset.ready = "1";
    box.hidden = false;
    var input = box.querySelector("[data-search]");
    var count = box.querySelector("[data-search-count]");
    var list = document.getElementById("transcript-turns");
    if (!input || !list) return;
    var marks = [];
    var current = -1;
    var lastQuery = "";

    function show(index) {
      if (!marks.length) return;
      if (current >= 0 && marks[current]) marks[current].classList.remove("current");
      current = (index + marks.length) % marks.length;
      var mark = marks[current];
      mark.classList.add("current");
      mark.scrollIntoView({ block: "center", behavior: reducedMotion.matches ? "auto" : "smooth" });
      count.textContent = current + 1 + " of " + marks.length;
    }

    function search() {
      clear(list);
      marks = [];
      current = -1;
      var query = input.value.trim();
      lastQuery = query;
      if (!query) {
        count.textContent = "";
        return;
      }
      marks = markAll(list, query);
      if (marks.length) show(0);
      else count.textContent = "No matches";
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
