// The project page while an upload is checked on a worker: look again every few seconds until
// the worker has made it ready or rejected it (the page then stops reloading).
(function () {
  "use strict";
  if (document.querySelector("[data-dataset-checking]")) {
    window.setTimeout(function () { window.location.reload(); }, 3000);
  }
})();
