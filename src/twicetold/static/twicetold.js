// twicetold: link the two sides of a pair. Plain JavaScript, no build step; inlined into the report.
// Clicking a highlighted passage on one side outlines it on both sides and scrolls the other
// side's text to it. Offsets never reach the browser: the server already cut the texts.
(function () {
  "use strict";

  function sideOf(el) { return el.closest(".tt-side"); }

  function activate(mark) {
    var pair = mark.closest(".tt-pair");
    if (!pair) { return; }
    var p = mark.getAttribute("data-p");
    pair.querySelectorAll("mark.tt-active").forEach(function (m) { m.classList.remove("tt-active"); });
    var mine = sideOf(mark);
    pair.querySelectorAll('mark[data-p="' + p + '"]').forEach(function (m) {
      m.classList.add("tt-active");
    });
    pair.querySelectorAll(".tt-side").forEach(function (side) {
      if (side === mine) { return; }
      var target = side.querySelector('mark[data-p="' + p + '"]');
      var box = side.querySelector(".tt-text");
      if (target && box) {
        box.scrollTop = Math.max(0, target.offsetTop - box.offsetTop - 40);
      }
    });
  }

  document.addEventListener("click", function (event) {
    var target = event.target;
    if (!(target instanceof Element)) { return; }
    var mark = target.closest("mark.tt-p");
    if (mark) { activate(mark); }
  });

  // The upload form: show the chosen file's name and size before sending it.
  document.addEventListener("change", function (event) {
    var input = event.target;
    if (!(input instanceof HTMLInputElement) || input.type !== "file") { return; }
    var out = document.getElementById("tt-file-info");
    if (out && input.files && input.files.length) {
      var f = input.files[0];
      out.textContent = f.name + " (" + f.size.toLocaleString() + " bytes)";
    }
  });
})();
