// Users → a user: clicking the enrollment link selects it for copying (no inline handler: CSP).
"use strict";
document.addEventListener("DOMContentLoaded", () => {
  const link = document.getElementById("mfa-enrollment-link");
  if (link) link.addEventListener("click", () => link.select());
});
