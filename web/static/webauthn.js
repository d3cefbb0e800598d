// Strongroom WebAuthn helper: runs navigator.credentials for forms marked
// data-webauthn="create" (register a passkey) or "get" (sign in with one).
// The options come from the server in data-options; the result goes back in
// the form's hidden "response" field, and the form is submitted as usual.
// Served same-origin (CSP script-src 'self'); no inline script anywhere.
(function () {
  "use strict";

  function b64urlToBuf(s) {
    var b64 = s.replace(/-/g, "+").replace(/_/g, "/");
    while (b64.length % 4) { b64 += "="; }
    var bin = atob(b64), out = new Uint8Array(bin.length);
    for (var i = 0; i < bin.length; i++) { out[i] = bin.charCodeAt(i); }
    return out.buffer;
  }

  function bufToB64url(buf) {
    var bytes = new Uint8Array(buf), bin = "";
    for (var i = 0; i < bytes.length; i++) { bin += String.fromCharCode(bytes[i]); }
    return btoa(bin).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function decodeDescriptors(list) {
    return (list || []).map(function (d) {
      return Object.assign({}, d, { id: b64urlToBuf(d.id) });
    });
  }

  function creationOptions(o) {
    var pk = Object.assign({}, o.publicKey);
    pk.challenge = b64urlToBuf(pk.challenge);
    pk.user = Object.assign({}, pk.user, { id: b64urlToBuf(pk.user.id) });
    pk.excludeCredentials = decodeDescriptors(pk.excludeCredentials);
    return { publicKey: pk };
  }

  function requestOptions(o) {
    var pk = Object.assign({}, o.publicKey);
    pk.challenge = b64urlToBuf(pk.challenge);
    pk.allowCredentials = decodeDescriptors(pk.allowCredentials);
    return { publicKey: pk };
  }

  function encodeCredential(c) {
    var r = c.response, out = {
      id: c.id, rawId: bufToB64url(c.rawId), type: c.type,
      authenticatorAttachment: c.authenticatorAttachment || undefined,
      clientExtensionResults: c.getClientExtensionResults ? c.getClientExtensionResults() : {},
      response: { clientDataJSON: bufToB64url(r.clientDataJSON) }
    };
    if (r.attestationObject) {
      out.response.attestationObject = bufToB64url(r.attestationObject);
      if (r.getTransports) { out.response.transports = r.getTransports(); }
    } else {
      out.response.authenticatorData = bufToB64url(r.authenticatorData);
      out.response.signature = bufToB64url(r.signature);
      if (r.userHandle) { out.response.userHandle = bufToB64url(r.userHandle); }
    }
    return JSON.stringify(out);
  }

  function showError(form, text) {
    var el = form.querySelector("[data-webauthn-error]");
    if (el) { el.textContent = text; el.hidden = false; }
  }

  function attach(form) {
    var mode = form.getAttribute("data-webauthn");
    var field = form.querySelector("input[name=response]");
    form.addEventListener("submit", function (ev) {
      if (field.value !== "") { return; } // second pass: the real submit
      ev.preventDefault();
      if (!window.PublicKeyCredential || !navigator.credentials) {
        showError(form, "This browser does not support passkeys. Use another way to verify.");
        return;
      }
      var options;
      try {
        options = JSON.parse(form.getAttribute("data-options"));
      } catch (e) {
        showError(form, "Could not start. Reload the page and try again.");
        return;
      }
      var call = mode === "create"
        ? navigator.credentials.create(creationOptions(options))
        : navigator.credentials.get(requestOptions(options));
      call.then(function (cred) {
        field.value = encodeCredential(cred);
        form.submit();
      }).catch(function () {
        showError(form, "The passkey was not used (cancelled or timed out). Try again, or use another way to verify.");
      });
    });
  }

  document.querySelectorAll("form[data-webauthn]").forEach(attach);
})();
