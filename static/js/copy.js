// Copy buttons: <button data-copy="element-id"> copies that input's value or element's text.
// Delegated from the document, so buttons swapped in by htmx work too.
(function () {
  "use strict";
  function textOf(el) {
    return "value" in el && el.tagName !== "BUTTON" ? el.value : el.textContent;
  }
  function fallbackCopy(text) {
    var area = document.createElement("textarea");
    area.value = text;
    area.setAttribute("readonly", "");
    area.style.position = "fixed";
    area.style.opacity = "0";
    document.body.appendChild(area);
    area.select();
    var ok = false;
    try { ok = document.execCommand("copy"); } catch (e) { ok = false; }
    document.body.removeChild(area);
    return ok ? Promise.resolve() : Promise.reject(new Error("copy failed"));
  }
  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-copy]");
    if (!button) return;
    var source = document.getElementById(button.getAttribute("data-copy"));
    if (!source) return;
    var text = textOf(source).trim();
    var copying = navigator.clipboard && window.isSecureContext
      ? navigator.clipboard.writeText(text)
      : fallbackCopy(text);
    var label = button.textContent;
    copying.then(function () {
      button.textContent = "Copied";
      button.setAttribute("data-copied", "true");
    }, function () {
      button.textContent = "Select and copy manually";
      if (source.select) source.select();
    }).then(function () {
      setTimeout(function () { button.textContent = label; }, 2000);
    });
  });
})();
