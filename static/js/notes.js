// Notes on transcript turns, better with htmx: a note just added appears beside its turn, the
// form keeps the focus for the next one, and what happened ("Note added on turn 3", "Note
// resolved") is read out from a live region of our own. Without JavaScript the forms post and
// the server redirects back (calls/views/notes.py).
(function () {
  "use strict";
  var announcer = null;

  function announce(message) {
    if (!announcer) {
      announcer = document.createElement("p");
      announcer.id = "notes-announcer";
      announcer.className = "visually-hidden";
      announcer.setAttribute("role", "status");
      announcer.setAttribute("aria-live", "polite");
      document.body.appendChild(announcer);
    }
    announcer.textContent = "";
    // Emptied first and filled on the next frame, so the same words twice are read twice.
    window.requestAnimationFrame(function () { announcer.textContent = message; });
  }

  // The answer to a note added carries its turn's notes in a <template>: they replace that
  // turn's list where the page shows one, else go at the end of the turn itself, else into the
  // page's list of notes (the notes page). A turn on another page of the transcript gets none:
  // the form's message links to the note.
  function placeTurnNotes(template) {
    var key = template.dataset.noteTurn;
    var notes = template.content.querySelector(".turn-notes");
    var shown = document.getElementById("turn-notes-" + key);
    var turn = document.getElementById("turn-" + key);
    var elsewhere = document.querySelector("[data-notes-elsewhere]");
    template.remove();
    if (!notes) return;
    if (shown) {
      shown.replaceWith(notes);
    } else if (turn) {
      turn.appendChild(notes);
    } else if (elsewhere) {
      var empty = elsewhere.querySelector("[data-notes-empty]");
      if (empty) empty.remove();
      elsewhere.appendChild(notes);
    } else {
      return;
    }
    if (window.htmx) window.htmx.process(notes);
  }

  function focusField(field) {
    if (field) field.focus({ preventScroll: false });
  }

  document.addEventListener("notes:announce", function (event) {
    if (event.detail && event.detail.message) announce(event.detail.message);
  });

  document.addEventListener("htmx:load", function (event) {
    var swapped = event.detail && event.detail.elt;
    if (!swapped || !swapped.matches) return;
    if (swapped.matches("[data-note-form]")) {
      var template = swapped.querySelector("template[data-note-turn]");
      if (template) {
        placeTurnNotes(template);
        focusField(swapped.querySelector("textarea"));
      } else {
        focusField(swapped.querySelector("[aria-invalid='true']") || swapped.querySelector("textarea"));
      }
    } else if (swapped.matches(".turn-note.resolved")) {
      swapped.focus();  // the Resolve button it had is gone: keep the place
    }
  });

  document.addEventListener("keydown", function (event) {
    var field = event.target;
    // Ctrl+Enter (⌘+Enter) in a note sends it.
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey) && field.matches &&
        field.matches("[data-note-form] textarea")) {
      event.preventDefault();
      field.form.requestSubmit();
    }
  });

  // Selecting a turn of the transcript makes it the note's turn, unless a note is being written.
  document.addEventListener("click", function (event) {
    var turn = event.target.closest && event.target.closest(".turns .turn[id^='turn-']");
    var form = document.querySelector("[data-note-form]");
    if (!turn || !form) return;
    var text = form.querySelector("textarea");
    var number = form.querySelector("input[name='turn']");
    var moment = form.querySelector("input[name='t']");
    if (!text || !number || text.value.trim() || document.activeElement === text) return;
    number.value = turn.id.slice("turn-".length);
    if (moment) moment.value = "";
  });
})();
