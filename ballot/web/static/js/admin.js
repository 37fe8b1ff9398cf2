// Secretary pages: confirmation of irreversible steps, print buttons, and the reload of a page
// showing progress (data-reload-every="seconds": the ballots' checks after closing). No
// inline script (CSP).
"use strict";
document.addEventListener("submit", (event) => {
  const form = event.target;
  const question = form.getAttribute("data-confirm");
  if (question && !window.confirm(question)) event.preventDefault();
});
document.addEventListener("click", (event) => {
  if (event.target.closest(".print-button")) window.print();
});
const reloading = document.querySelector("[data-reload-every]");
if (reloading) {
  const seconds = Math.max(1, Number(reloading.getAttribute("data-reload-every")) || 3);
  setTimeout(() => window.location.reload(), seconds * 1000);
}
