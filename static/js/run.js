// Polls the run's status while a worker segments, and reloads once it has finished so the
// results and downloads appear. No inline script: the page works under a strict CSP.
(function () {
  "use strict";
  var card = document.getElementById("progress-card");
  if (!card || card.dataset.finished === "true") { return; }
  var bar = document.getElementById("progress-bar");
  var step = document.getElementById("progress-step");
  var value = document.getElementById("progress-value");
  var status = document.getElementById("run-status");
  var progress = card.querySelector(".progress");

  function poll() {
    fetch(card.dataset.statusUrl, { headers: { "Accept": "application/json" }, credentials: "same-origin" })
      .then(function (response) { return response.json(); })
      .then(function (run) {
        bar.style.width = run.progress + "%";
        progress.setAttribute("aria-valuenow", run.progress);
        value.textContent = run.progress;
        step.textContent = run.step || "waiting for a worker";
        status.textContent = run.status.charAt(0).toUpperCase() + run.status.slice(1);
        status.className = "badge " + run.status;
        if (run.finished) { window.location.reload(); } else { window.setTimeout(poll, 1000); }
      })
      .catch(function () { window.setTimeout(poll, 3000); });
  }
  window.setTimeout(poll, 500);
})();
