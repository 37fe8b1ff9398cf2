// Secretary pages: confirmation of irreversible steps, print buttons. No inline script (CSP).
"use strict";
document.addEventListener("submit", (event) => {
  const form = event.target;
  const question = form.getAttribute("data-confirm");
  if (question && !window.confirm(question)) event.preventDefault();
});
document.addEventListener("click", (event) => {
  if (event.target.closest(".print-button")) window.print();
});
