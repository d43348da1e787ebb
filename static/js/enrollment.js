/* Enrollment portal: wires the register and step-up forms to window.mfagate. */
(function () {
  "use strict";
  function csrf(form) { return form.querySelector("input[name=csrfmiddlewaretoken]").value; }
  function showError(message) {
    const box = document.getElementById("webauthn-error");
    box.textContent = message;
    box.hidden = false;
  }
  function wire(formId, run) {
    const form = document.getElementById(formId);
    if (!form) return;
    if (!window.PublicKeyCredential) {
      showError("This browser does not support security keys or biometrics. Try another browser or device.");
      return;
    }
    form.addEventListener("submit", async function (event) {
      event.preventDefault();
      const button = form.querySelector("button[type=submit]");
      button.disabled = true;
      document.getElementById("webauthn-error").hidden = true;
      const result = await run(form);
      button.disabled = false;
      if (result && result.ok) { window.location.assign(result.redirect); }
      else { showError((result && result.error) || "Something went wrong. Try again."); }
    });
    // The button starts disabled, so it cannot be pressed before this handler exists.
    form.querySelector("button[type=submit]").disabled = false;
  }
  wire("webauthn-register", function (form) {
    return window.mfagate.webauthnCreate(form.dataset.optionsUrl, form.dataset.verifyUrl, csrf(form), {
      optionsBody: {kind: form.dataset.kind},
      verifyBody: {name: form.querySelector("[name=name]").value, next: form.dataset.next},
    });
  });
  wire("webauthn-step-up", function (form) {
    return window.mfagate.webauthnGet(form.dataset.optionsUrl, form.dataset.verifyUrl, csrf(form), {
      verifyBody: {next: form.dataset.next},
    });
  });
})();
