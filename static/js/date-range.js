// The list's date range (From / To): a range applies only once it is complete and in order, so
// a date still being typed never reaches the server nor clears the results. The dates are typed
// as the table shows them (YYYY-MM-DD); the calendar button opens the browser's date picker;
// the presets fill both dates at once. While the range is incomplete the other filters still
// apply, with the dates the list already shows. Without JavaScript the form submits as typed
// and the server checks it (400 with the reason).
(function () {
  "use strict";
  // CSS shows the calendar buttons only where this script runs.
  document.documentElement.classList.add("js");

  var MOMENT =
    /^(\d{4})-(\d{2})-(\d{2})(?:[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,6})?)?([Zz]|[+-]\d{2}:\d{2})?)?$/;

  function fields(control) {
    return Array.prototype.slice.call(control.querySelectorAll("input[type=text]"));
  }

  function labelOf(input) {
    var label = input.labels && input.labels[0];
    return label ? label.textContent.trim() : input.name;
  }

  // A typed value: {empty}, {error}, or {key} that sorts as the instant does (null when it
  // carries an offset: the server orders those). "From" starts its day, "To" ends it.
  function read(input, control, isEnd) {
    var text = input.value.trim();
    if (!text) return { empty: true };
    var example = (control.querySelector("#range-presets a") || {}).dataset;
    var sample = example && example.from ? example.from : "2026-11-23";
    var match = MOMENT.exec(text);
    if (!match) {
      return { error: "Type “" + labelOf(input) + "” as YYYY-MM-DD, for example " + sample + "." };
    }
    var year = +match[1], month = +match[2], day = +match[3];
    var calendar = new Date(Date.UTC(year, month - 1, day));
    var clock = match[4] === undefined || (+match[4] < 24 && +match[5] < 60 && +(match[6] || 0) < 60);
    if (calendar.getUTCMonth() !== month - 1 || calendar.getUTCDate() !== day || !clock) {
      return { error: "“" + text + "” is not a date: check the month and the day." };
    }
    var min = +control.dataset.minYear, max = +control.dataset.maxYear;
    if (year < min || year > max) {
      return { error: "“" + labelOf(input) + "”: use a year from " + min + " to " + max + "." };
    }
    if (match[7]) return { key: null };
    var date = match[1] + "-" + match[2] + "-" + match[3];
    if (match[4] === undefined) return { key: date + (isEnd ? "T24" : "T00") };
    return { key: date + "T" + match[4] + ":" + match[5] + ":" + (match[6] || "00") };
  }

  // {ok} or {message, input}: the first problem of the range as typed.
  function check(control) {
    var inputs = fields(control);
    var ends = inputs.map(function (input, index) {
      return read(input, control, index === 1);
    });
    for (var i = 0; i < ends.length; i++) {
      if (ends[i].error) return { message: ends[i].error, input: inputs[i] };
    }
    var from = ends[0], to = ends[1];
    if (from.key && to.key && from.key >= to.key) {
      return { message: "“From” must be earlier than “To”.", input: inputs[1] };
    }
    return { ok: true };
  }

  function show(control, result) {
    var hint = control.querySelector("[data-range-hint]");
    if (!hint.dataset.help) hint.dataset.help = hint.textContent;
    fields(control).forEach(function (input) {
      if (result.input === input) input.setAttribute("aria-invalid", "true");
      else input.removeAttribute("aria-invalid");
    });
    hint.classList.toggle("error", !result.ok);
    hint.textContent = result.ok
      ? hint.dataset.help
      : result.message + " The list keeps its dates until the range is complete.";
  }

  // Send the range if it is valid and not what the list already shows.
  function apply(control) {
    var result = check(control);
    show(control, result);
    if (!result.ok) return;
    var inputs = fields(control);
    var changed = inputs.some(function (input) {
      return input.value.trim() !== (input.dataset.applied || "");
    });
    if (!changed) return;
    inputs.forEach(function (input) {
      input.value = input.value.trim();
      input.dataset.applied = input.value;
    });
    control.form.requestSubmit();
  }

  function controlOf(element) {
    return element && element.closest ? element.closest("[data-range]") : null;
  }

  // The form sends its request on `change`: the range's own changes stop here, and apply only
  // when complete (capturing, so this runs before htmx's listener on the form).
  document.addEventListener(
    "change",
    function (event) {
      var control = controlOf(event.target);
      if (!control) return;
      event.stopPropagation();
      if (event.target.matches("[data-calendar-input]")) {
        var text = event.target.closest(".date-entry").querySelector("input[type=text]");
        if (!event.target.value) return;
        text.value = event.target.value;
        text.focus();
      }
      apply(control);
    },
    true
  );

  // A range made valid again says so at once (it applies on change, as typed dates do).
  document.addEventListener("input", function (event) {
    var control = controlOf(event.target);
    if (control && event.target.type === "text" && check(control).ok) show(control, { ok: true });
  });

  // Enter in a date applies the range (or says what is missing) instead of submitting it raw.
  document.addEventListener("keydown", function (event) {
    var control = controlOf(event.target);
    if (!control || event.key !== "Enter" || event.target.type !== "text") return;
    event.preventDefault();
    apply(control);
  });

  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("[data-calendar]");
    if (button && controlOf(button)) {
      var entry = button.closest(".date-entry");
      var text = entry.querySelector("input[type=text]");
      var picker = entry.querySelector("[data-calendar-input]");
      var typed = MOMENT.exec(text.value.trim());
      picker.value = typed ? typed[1] + "-" + typed[2] + "-" + typed[3] : "";
      try {
        picker.showPicker();
      } catch (error) {
        text.focus(); // no picker here: typing still works
      }
      return;
    }
    var preset = event.target.closest && event.target.closest("#range-presets a[data-from]");
    var control = controlOf(preset);
    // A new tab or window gets the link itself.
    if (!control || event.button !== 0 || event.ctrlKey || event.metaKey || event.shiftKey) return;
    event.preventDefault();
    var inputs = fields(control);
    inputs[0].value = preset.dataset.from;
    inputs[1].value = preset.dataset.to;
    apply(control);
  });

  // Any other filter's change still applies, with the dates the list shows while the range is
  // incomplete or out of order.
  document.addEventListener("htmx:configRequest", function (event) {
    var control = event.detail.elt.querySelector && event.detail.elt.querySelector("[data-range]");
    if (!control || check(control).ok) return;
    fields(control).forEach(function (input) {
      event.detail.parameters[input.name] = input.dataset.applied || "";
    });
  });
})();
