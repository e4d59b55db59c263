// The run form's live summary: posts the form to the spec preview (the same validation as a
// start), shows the spec in words and as JSON, and shows only the groups the table's kind uses.
// "Edit as JSON" starts from the spec the form describes. No inline script (strict CSP).
(function () {
  "use strict";
  var form = document.getElementById("run-form");
  if (!form) { return; }
  var summary = document.getElementById("spec-summary");
  var errors = document.getElementById("spec-errors");
  var json = document.getElementById("spec-json");
  var editor = form.querySelector("textarea[name=spec]");
  var details = document.getElementById("json-mode");
  var latest = null, pending = null;

  function kind() {
    var checked = form.querySelector("input[name=input_kind]:checked");
    return checked ? checked.value : "customers";
  }

  function showGroups() {
    var log = kind() === "transactions";
    document.getElementById("group-log").hidden = !log;
    // A log's features are engineered: its columns take no number/category/ordered/date role.
    ["numeric_columns", "categorical_columns", "ordinal_columns", "date_columns"].forEach(function (key) {
      form.querySelectorAll(".role-" + key).forEach(function (cell) { cell.hidden = log; });
    });
    form.querySelectorAll(".customers-only").forEach(function (cell) { cell.hidden = log; });
  }

  function preview() {
    var body = new FormData(form);
    body.set("edit_mode", "form");
    fetch(form.getAttribute("data-preview"), { method: "POST", body: body, credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (response) { return response.json(); })
      .then(function (answer) {
        summary.textContent = "";
        (answer.summary || []).forEach(function (line) {
          var item = document.createElement("li"); item.textContent = line; summary.appendChild(item);
        });
        var problems = [];
        Object.keys(answer.errors || {}).forEach(function (field) {
          answer.errors[field].forEach(function (message) { problems.push(message); });
        });
        errors.hidden = !problems.length;
        errors.textContent = problems.join(" ");
        latest = answer.spec;
        json.textContent = latest ? JSON.stringify(latest, null, 2) : "";
        fillEditor();
      })
      .catch(function () { /* the summary is a help; the start itself validates */ });
  }

  function schedule() {
    showGroups();
    window.clearTimeout(pending);
    pending = window.setTimeout(preview, 250);
  }

  form.addEventListener("change", function (event) { if (event.target !== editor) { schedule(); } });
  form.addEventListener("input", function (event) { if (event.target.type === "number" || event.target.type === "date") { schedule(); } });
  function fillEditor() {
    if (details.open && editor && !editor.value.trim() && latest) { editor.value = JSON.stringify(latest, null, 2); }
  }
  details.addEventListener("toggle", fillEditor);
  showGroups();
  preview();
})();
