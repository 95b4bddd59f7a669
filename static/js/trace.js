// Trace page: mark the node whose observation the pane shows (the tree itself is not re-rendered).
document.addEventListener("click", function (event) {
  var link = event.target.closest && event.target.closest(".trace-nav .node-link");
  if (!link) return;
  document.querySelectorAll('.trace-nav .node-link[aria-current="true"]').forEach(function (other) {
    other.removeAttribute("aria-current");
  });
  link.setAttribute("aria-current", "true");
});
