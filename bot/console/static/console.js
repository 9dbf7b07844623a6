// Small conveniences for the console; everything also works without this file.
(function () {
  "use strict";

  function scrollTranscript() {
    var transcript = document.getElementById("transcript");
    if (transcript) { transcript.scrollTop = transcript.scrollHeight; }
  }

  // Tell screen-reader users when the number of waiting cases changes.
  var lastWaiting = null;
  function announceQueue() {
    var queue = document.querySelector("#queue .queue");
    var announce = document.getElementById("announce");
    if (!queue || !announce) { return; }
    var waiting = queue.getAttribute("data-waiting");
    var urgent = queue.getAttribute("data-urgent");
    if (lastWaiting !== null && waiting !== lastWaiting) {
      announce.textContent = waiting + " waiting, " + urgent + " urgent.";
    }
    lastWaiting = waiting;
  }

  document.addEventListener("DOMContentLoaded", function () {
    scrollTranscript();
    announceQueue();
  });
  document.addEventListener("htmx:afterSettle", function () {
    scrollTranscript();
    announceQueue();
  });
  document.addEventListener("htmx:sseMessage", function () {
    scrollTranscript();
    announceQueue();
  });

  // Ctrl+Enter (or Cmd+Enter) sends the reply or saves the note.
  document.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey) && event.target.tagName === "TEXTAREA") {
      var form = event.target.form;
      if (form) { event.preventDefault(); form.requestSubmit(); }
    }
  });
})();
