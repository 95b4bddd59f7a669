// Playground runs post with htmx and swap only the results panel (#pg-results). A 422 answer is the
// panel with the reason the input cannot be sent (a missing variable, no model): swap it like a 200.
// Other error statuses, and a server that cannot be reached, swap nothing in htmx; say so in the
// panel instead of leaving the last answer standing as if it were new.
(function () {
  "use strict";
  document.addEventListener("htmx:beforeSwap", function (event) {
    var target = event.detail.target;
    if (target && target.id === "pg-results" && event.detail.xhr.status === 422) {
      event.detail.shouldSwap = true;
      event.detail.isError = false;
    }
  });
  function show(event, text) {
    var target = event.detail && event.detail.target;
    if (!target || target.id !== "pg-results") return;
    var box = document.createElement("div");
    box.className = "form-error pg-error";
    box.id = "pg-error";
    box.setAttribute("role", "alert");
    box.textContent = text;
    var old = document.getElementById("pg-error");
    if (old) old.remove();
    var answer = document.getElementById("pg-answer");
    if (answer) answer.remove();
    target.prepend(box);
  }
  document.addEventListener("htmx:responseError", function (event) {
    var status = event.detail.xhr ? event.detail.xhr.status : 0;
    var reason = status === 403 ? "running the playground needs the Member role"
      : status === 404 ? "this page no longer exists (deleted, or you lost access)"
      : "the server answered " + status;
    show(event, "Not run: " + reason + ". Reload the page and try again.");
  });
  document.addEventListener("htmx:sendError", function (event) {
    show(event, "Not run: this server could not be reached. Check your network and try again.");
  });
})();
