/* Wires every WebAuthn form of mfagate's pages to window.mfagate (webauthn.js):
 *   <form data-webauthn="create" data-kind data-next data-options-url data-verify-url>  register (portal)
 *   <form data-webauthn="get" data-next data-options-url data-verify-url>               step-up and the MFA challenge
 * Each form holds a submit button (disabled until wired) and a [data-webauthn-error] box.
 */
(function () {
  "use strict";
  function csrf(form) { return form.querySelector("input[name=csrfmiddlewaretoken]").value; }

  document.querySelectorAll("form[data-webauthn]").forEach(function (form) {
    const button = form.querySelector("button[type=submit]");
    const errorBox = form.querySelector("[data-webauthn-error]");
    function showError(message) {
      errorBox.textContent = message;
      errorBox.hidden = false;
    }
    if (!window.PublicKeyCredential) {
      showError(window.mfagate.text("browser_unsupported"));
      return;
    }
    form.addEventListener("submit", async function (event) {
      event.preventDefault();
      button.disabled = true;
      errorBox.hidden = true;
      const nameField = form.querySelector("[name=name]");
      const verifyBody = {next: form.dataset.next || ""};
      if (nameField) verifyBody.name = nameField.value;
      const run = form.dataset.webauthn === "create" ? window.mfagate.webauthnCreate : window.mfagate.webauthnGet;
      const result = await run(form.dataset.optionsUrl, form.dataset.verifyUrl, csrf(form), {
        optionsBody: form.dataset.kind ? {kind: form.dataset.kind} : {},
        verifyBody: verifyBody,
      });
      if (result && result.ok) {
        window.location.assign(result.redirect || "/");
        return;
      }
      button.disabled = false;
      showError((result && result.error) || window.mfagate.text("browser_incomplete"));
    });
    button.disabled = false;  // enabled only once the handler exists, so it cannot be pressed before
  });
})();
