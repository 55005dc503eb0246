// Keyboard use of the staff calendar: arrows move between slots, letters change period.
(function () {
  "use strict";
  var root = document.querySelector(".rsv[data-prev]");
  if (!root) return;

  function cells() {
    return Array.prototype.slice.call(root.querySelectorAll("[data-grid-cell]"));
  }

  function columns() {
    var row = root.querySelector(".rsv-week thead tr");
    return row ? row.children.length - 1 : 1;
  }

  function move(current, key) {
    var cell = current.closest("td, section");
    if (!cell) return null;
    if (cell.tagName === "SECTION") {
      var list = cells();
      var i = list.indexOf(current);
      var step = key === "ArrowDown" || key === "ArrowRight" ? 1 : -1;
      return list[i + step] || null;
    }
    var tr = cell.parentElement;
    var col = Array.prototype.indexOf.call(tr.children, cell);
    var target = null;
    if (key === "ArrowLeft" || key === "ArrowRight") {
      var step2 = key === "ArrowRight" ? 1 : -1;
      for (var c = col + step2; c > 0 && c <= columns() && !target; c += step2) {
        target = tr.children[c] && tr.children[c].querySelector("[data-grid-cell]");
      }
    } else {
      var rows = key === "ArrowDown" ? "nextElementSibling" : "previousElementSibling";
      for (var r = tr[rows]; r && !target; r = r[rows]) {
        target = r.children[col] && r.children[col].querySelector("[data-grid-cell]");
      }
    }
    return target;
  }

  var pages = { n: "next", p: "prev", t: "today", d: "day", w: "week" };

  document.addEventListener("keydown", function (event) {
    if (event.altKey || event.ctrlKey || event.metaKey) return;
    var tag = (event.target.tagName || "").toLowerCase();
    if (tag === "input" || tag === "textarea" || tag === "select") return;
    if (pages[event.key]) {
      window.location.href = root.dataset[pages[event.key]];
      event.preventDefault();
      return;
    }
    if (event.key.indexOf("Arrow") !== 0) return;
    var active = document.activeElement;
    var target = active && active.hasAttribute("data-grid-cell") ? move(active, event.key) : cells()[0];
    if (target) {
      target.focus();
      event.preventDefault();
    }
  });
})();
