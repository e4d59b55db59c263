// Sends the upload form with XMLHttpRequest so the page can show how much has been sent.
// Without JavaScript the form still posts normally; the server's answer is the same either way.
(function () {
  "use strict";
  var form = document.getElementById("upload-form");
  if (!form || !window.FormData) { return; }
  var box = document.getElementById("upload-progress");
  var bar = document.getElementById("upload-bar");
  var text = document.getElementById("upload-text");
  var button = form.querySelector("button[type=submit]");

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var xhr = new XMLHttpRequest();
    xhr.open("POST", form.action || window.location.href);
    xhr.setRequestHeader("X-Requested-With", "XMLHttpRequest");
    box.hidden = false;
    button.disabled = true;
    xhr.upload.addEventListener("progress", function (e) {
      if (!e.lengthComputable) { return; }
      var percent = Math.round((100 * e.loaded) / e.total);
      bar.style.width = percent + "%";
      box.querySelector(".progress").setAttribute("aria-valuenow", percent);
      text.textContent = percent < 100 ? "Uploading… " + percent + "%" : "Checking and encrypting the file…";
    });
    xhr.addEventListener("load", function () {
      // A successful upload answers with where to go next; otherwise the page comes back with its errors.
      if ((xhr.getResponseHeader("Content-Type") || "").indexOf("application/json") === 0) {
        window.location.assign(JSON.parse(xhr.responseText).redirect);
        return;
      }
      var page = new DOMParser().parseFromString(xhr.responseText, "text/html");
      var fresh = page.querySelector("main");
      if (fresh) { document.querySelector("main").replaceWith(fresh); }
      // Bind the new form by loading this script again from its static file.
      var self = document.querySelector("script[data-upload]");
      if (self) { var s = document.createElement("script"); s.src = self.src; s.dataset.upload = "1"; self.replaceWith(s); }
    });
    xhr.addEventListener("error", function () {
      text.textContent = "The upload was interrupted. Check your connection and try again.";
      button.disabled = false;
    });
    xhr.send(new FormData(form));
  });
})();
