/* mfagate WebAuthn helpers, shared by the enrollment portal and the MFA challenge page.
 *
 *   const result = await window.mfagate.webauthnGet(optionsUrl, verifyUrl, csrfToken);
 *   const result = await window.mfagate.webauthnCreate(optionsUrl, verifyUrl, csrfToken,
 *                                                      {optionsBody: {kind: "security_key"}, verifyBody: {name: "My key"}});
 *
 * Protocol: POST optionsUrl (JSON body) → {"ok": true, "options": {...}} | {"ok": false, "error": "..."};
 * POST verifyUrl with {"credential": <PublicKeyCredential as JSON>, ...verifyBody} → the server's JSON,
 * returned as is ({"ok": true, "redirect": "..."} or {"ok": false, "error": "..."}).
 * Browser refusals (cancelled, timed out, excluded) come back as {"ok": false, "error": "..."} too.
 *
 * The wording of every message is the server's (enrollment/messages.py): the page hands it over
 * with {{ browser_messages|json_script:"mfagate-messages" }}.
 */
(function () {
  "use strict";

  const element = document.getElementById("mfagate-messages");
  const MESSAGES = element ? JSON.parse(element.textContent) : {};
  function text(key, params) {
    let value = MESSAGES[key] || key;
    Object.keys(params || {}).forEach(function (name) { value = value.replace("{" + name + "}", params[name]); });
    return value;
  }

  function b64urlToBuf(value) {
    const pad = "=".repeat((4 - (value.length % 4)) % 4);
    const b64 = (value + pad).replace(/-/g, "+").replace(/_/g, "/");
    const raw = atob(b64);
    const out = new Uint8Array(raw.length);
    for (let i = 0; i < raw.length; i++) out[i] = raw.charCodeAt(i);
    return out.buffer;
  }

  function bufToB64url(buffer) {
    const bytes = new Uint8Array(buffer);
    let raw = "";
    for (let i = 0; i < bytes.length; i++) raw += String.fromCharCode(bytes[i]);
    return btoa(raw).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  async function postJSON(url, body, csrfToken) {
    let response;
    try {
      response = await fetch(url, {
        method: "POST",
        credentials: "same-origin",
        headers: {"Content-Type": "application/json", "X-CSRFToken": csrfToken, "Accept": "application/json"},
        body: JSON.stringify(body || {}),
      });
    } catch (e) {
      return {ok: false, error: text("browser_server_unreachable")};
    }
    try {
      return await response.json();
    } catch (e) {
      return {ok: false, error: text("browser_server_unexpected", {status: response.status})};
    }
  }

  function browserError(error) {
    const name = error && error.name;
    if (name === "NotAllowedError") return text("browser_cancelled");
    if (name === "InvalidStateError") return text("webauthn_already_registered");
    if (name === "SecurityError") return text("browser_wrong_address");
    if (name === "NotSupportedError") return text("browser_kind_not_supported");
    return text("browser_failed", {detail: (error && error.message) || name || "unknown error"});
  }

  function descriptors(list) {
    return (list || []).map(function (d) { return Object.assign({}, d, {id: b64urlToBuf(d.id)}); });
  }

  function creationOptions(o) {
    return Object.assign({}, o, {
      challenge: b64urlToBuf(o.challenge),
      user: Object.assign({}, o.user, {id: b64urlToBuf(o.user.id)}),
      excludeCredentials: descriptors(o.excludeCredentials),
    });
  }

  function requestOptions(o) {
    return Object.assign({}, o, {challenge: b64urlToBuf(o.challenge), allowCredentials: descriptors(o.allowCredentials)});
  }

  function credentialToJSON(cred) {
    const r = cred.response;
    const json = {
      id: cred.id,
      rawId: bufToB64url(cred.rawId),
      type: cred.type,
      authenticatorAttachment: cred.authenticatorAttachment || null,
      clientExtensionResults: cred.getClientExtensionResults ? cred.getClientExtensionResults() : {},
      response: {clientDataJSON: bufToB64url(r.clientDataJSON)},
    };
    if (r.attestationObject) {
      json.response.attestationObject = bufToB64url(r.attestationObject);
      json.response.transports = r.getTransports ? r.getTransports() : [];
    } else {
      json.response.authenticatorData = bufToB64url(r.authenticatorData);
      json.response.signature = bufToB64url(r.signature);
      json.response.userHandle = r.userHandle ? bufToB64url(r.userHandle) : null;
    }
    return json;
  }

  async function ceremony(create, optionsUrl, verifyUrl, csrfToken, extra) {
    extra = extra || {};
    if (!window.PublicKeyCredential || !navigator.credentials) {
      return {ok: false, error: text("browser_unsupported")};
    }
    const begin = await postJSON(optionsUrl, extra.optionsBody, csrfToken);
    if (!begin.ok) return begin;
    let credential;
    try {
      credential = create
        ? await navigator.credentials.create({publicKey: creationOptions(begin.options)})
        : await navigator.credentials.get({publicKey: requestOptions(begin.options)});
    } catch (error) {
      return {ok: false, error: browserError(error)};
    }
    if (!credential) return {ok: false, error: text("browser_no_answer")};
    return postJSON(verifyUrl, Object.assign({}, extra.verifyBody, {credential: credentialToJSON(credential)}), csrfToken);
  }

  window.mfagate = Object.assign(window.mfagate || {}, {
    webauthnGet: function (optionsUrl, verifyUrl, csrfToken, extra) {
      return ceremony(false, optionsUrl, verifyUrl, csrfToken, extra);
    },
    webauthnCreate: function (optionsUrl, verifyUrl, csrfToken, extra) {
      return ceremony(true, optionsUrl, verifyUrl, csrfToken, extra);
    },
    text: text,
    b64urlToBuf: b64urlToBuf,
    bufToB64url: bufToB64url,
  });
})();
