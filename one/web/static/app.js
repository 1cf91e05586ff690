// Live states: every element with data-vm shows a VM's state; poll the console's JSON
// endpoint and update them in place, so a page never needs a reload to follow a VM.
(function () {
  "use strict";
  const PERIOD_MS = 2000;
  function refresh() {
    const cells = Array.from(document.querySelectorAll("[data-vm]"));
    if (cells.length === 0) { return; }
    const ids = Array.from(new Set(cells.map((c) => c.dataset.vm))).join(",");
    fetch("/api/vms/states?ids=" + ids, {credentials: "same-origin"})
      .then((reply) => (reply.ok ? reply.json() : {}))
      .then((states) => {
        for (const cell of cells) {
          const state = states[cell.dataset.vm];
          if (state !== undefined && cell.textContent !== state) { cell.textContent = state; }
          if (state === undefined) { cell.classList.add("gone"); }
        }
      })
      .catch(() => {});
  }
  window.addEventListener("load", () => { window.setInterval(refresh, PERIOD_MS); });
})();
