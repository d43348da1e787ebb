/* Wires every WebAuthn form of mfagate's pages to window.mfagate (webauthn.js):
 *   <form data-webauthn="create" data-kind data-next data-options-url data-verify-url>  register (portal)
 *   <form data-webauthn="get" data-next data-options-url data-verify-url>               step-up and the MFA challenge
 * Each form holds a submit button (disabled until wired) and a [data-webauthn-error] box.
 *
 * And the copy buttons (the TOTP setup key):
 *   <button data-copy="TEXT" id="X" hidden>   shown once wired; copies TEXT, says so in #X-status
 * Their wording comes from the page's json_script "mfagate-messages" (enrollment/messages.py).
 */
(function () {
  "use strict";
  function csrf(form) { return form.querySelector("input[name=csrfmiddlewaretoken]").value; }

  const messagesElement = document.getElementById("mfagate-messages");
  const MESSAGES = messagesElement ? JSON.parse(messagesElement.textContent) : {};
  function say(key) { return MESSAGES[key] || key; }

  function selectText(element) {
    const range = document.createRange();
    range.selectNodeContents(element);
    const selection = window.getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
  }

  async function copy(text, fallbackElement) {
    if (navigator.clipboard && window.isSecureContext) {
      try {
        await navigator.clipboard.writeText(text);
        return true;
      } catch (e) { /* refused: fall through to selecting the text */ }
    }
    if (!fallbackElement) return false;
    selectText(fallbackElement);  // left selected, so the person can copy it by hand
    try { return document.execCommand("copy"); } catch (e) { return false; }
  }

  document.querySelectorAll("button[data-copy]").forEach(function (button) {
    const status = document.getElementById(button.id + "-status");
    const source = button.dataset.copySource ? document.getElementById(button.dataset.copySource) : null;
    button.addEventListener("click", async function () {
      const copied = await copy(button.dataset.copy, source);
      if (status) {
        status.textContent = say(copied ? "browser_copied" : "browser_copy_failed");
        status.classList.toggle("field-error", !copied);
      }
    });
    button.hidden = false;  // without this script the key is still there to select by hand
  });

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
