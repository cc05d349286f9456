// Writes tests/fixtures/signature_vectors.json: requests signed the way Twilio signs them, some
// presented as they arrive (genuine), some altered on the way (forgeries).
//
//   node tools/twilio-node/make-vectors.js > tests/fixtures/signature_vectors.json
//
// A vector is signed with twilio-node's own getExpectedTwilioSignature over `signed_url` (and,
// for a form, the parameters its body decodes to); the handler then sees `url`, `signature` and
// `form` or `json`, which may differ from what was signed. Every vector records twilio-node's
// verdict as `expected`; this script fails if a genuine vector is refused or a forgery accepted
// by twilio-node, so the file never records a verdict Twilio's library does not give.
// Deterministic: the same twilio-node gives the same file.
"use strict";

const crypto = require("crypto");
const querystring = require("querystring");
const path = require("path");
const webhooks = require(path.join(__dirname, "node_modules/twilio/lib/webhooks/webhooks.js"));
const { verdict } = require("./verdict.js");

const TOKEN = "12345";
const OTHER_TOKEN = "54321";
const DOCS_URL = "https://mycompany.com/myapp.php?foo=1&bar=2";
const DOCS_FORM =
  "CallSid=CA1234567890ABCDE&Caller=%2B12349013030&Digits=1234&From=%2B12349013030&To=%2B18005551212";
const CB = "https://isv.example.com/trusthub/status";
const BU = "BU0123456789abcdef0123456789abcdef";
const AC = "AC0123456789abcdef0123456789abcdef";
const BUNDLE_FORM = `AccountSid=${AC}&BundleSid=${BU}&Status=twilio-approved`;
const REJECTED_FORM = `AccountSid=${AC}&BundleSid=${BU}&Status=twilio-rejected&FailureReason=Address+does+not+match`;
const EVENTS = JSON.stringify([
  {
    specversion: "1.0",
    type: "com.twilio.messaging.compliance.brand-registration.brand-registered",
    source: "/v1/a2p/BrandRegistrations",
    id: "NO0123456789abcdef0123456789abcdef",
    data: {
      accountsid: AC,
      brandsid: "BN0123456789abcdef0123456789abcdef",
      brandstatus: "registered",
      externalbrandid: "B000001",
      createddate: 1756043494500,
      updateddate: 1756043494500,
    },
  },
]);

function formSignature(token, signedUrl, signedForm) {
  return webhooks.getExpectedTwilioSignature(token, signedUrl, querystring.parse(signedForm));
}

function sha256(body) {
  return crypto.createHash("sha256").update(Buffer.from(body, "utf-8")).digest("hex");
}

function withHash(url, body) {
  return url + (url.includes("?") ? "&" : "?") + "bodySHA256=" + sha256(body);
}

function jsonSignature(token, signedUrl) {
  return webhooks.getExpectedTwilioSignature(token, signedUrl, {});
}

const vectors = [];

// A form request: `signed` (url, form, token) is what Twilio signed; `seen` overrides what the
// handler receives.
function form(id, category, note, signed, seen = {}) {
  const signedUrl = signed.url;
  const signedForm = signed.form;
  let signature = formSignature(signed.token || TOKEN, signedUrl, signedForm);
  if (seen.signature) signature = seen.signature(signature);
  vectors.push({
    id,
    category,
    note,
    token: seen.token || TOKEN,
    signed_url: signedUrl,
    url: seen.url === undefined ? signedUrl : seen.url,
    signature,
    form: seen.form === undefined ? signedForm : seen.form,
  });
}

// A JSON request under the bodySHA256 scheme: Twilio signs `url?bodySHA256=<hex>` alone.
function json(id, category, note, signed, seen = {}) {
  const signedUrl = signed.url;
  let signature = jsonSignature(signed.token || TOKEN, signedUrl);
  if (seen.signature) signature = seen.signature(signature);
  vectors.push({
    id,
    category,
    note,
    token: seen.token || TOKEN,
    signed_url: signedUrl,
    url: seen.url === undefined ? signedUrl : seen.url,
    signature,
    json: seen.json === undefined ? signed.json : seen.json,
  });
}

const G = "genuine";
const F = "forgery";

// ---------- genuine form requests ----------
form("docs-example", G, "Twilio's documented example", { url: DOCS_URL, form: DOCS_FORM });
form("params-in-another-order", G, "the same parameters in another order on the wire", {
  url: DOCS_URL,
  form: DOCS_FORM,
}, { form: DOCS_FORM.split("&").reverse().join("&") });
form("status-callback", G, "a bundle status callback", { url: CB, form: BUNDLE_FORM });
form("status-callback-rejected", G, "a rejection with its failure reason (+ for spaces)", {
  url: CB,
  form: REJECTED_FORM,
});
form("default-port-added", G, "signed without a port, received with :443", {
  url: CB,
  form: BUNDLE_FORM,
}, { url: "https://isv.example.com:443/trusthub/status" });
form("default-port-removed", G, "signed with :443, received without", {
  url: "https://isv.example.com:443/trusthub/status",
  form: BUNDLE_FORM,
}, { url: CB });
form("http-port-80-added", G, "plain http signed without a port, received with :80", {
  url: "http://127.0.0.1/hooks",
  form: BUNDLE_FORM,
}, { url: "http://127.0.0.1:80/hooks" });
form("other-port-kept", G, "a non-default port, as signed", {
  url: "https://isv.example.com:8443/trusthub/status",
  form: BUNDLE_FORM,
});
form("other-port-behind-proxy", G, "signed without a port, received with :8443 (a port is removed for the second try)", {
  url: CB,
  form: BUNDLE_FORM,
}, { url: "https://isv.example.com:8443/trusthub/status" });
form("upper-case-scheme", G, "Twilio signed the normalised URL; the handler sees an upper-case scheme", {
  url: CB,
  form: BUNDLE_FORM,
}, { url: "HTTPS://isv.example.com/trusthub/status" });
form("upper-case-host", G, "the handler sees the host as configured, in capitals", {
  url: CB,
  form: BUNDLE_FORM,
}, { url: "https://ISV.Example.COM/trusthub/status" });
form("upper-case-scheme-host-and-port", G, "capitals and the default port together", {
  url: CB,
  form: BUNDLE_FORM,
}, { url: "HTTPS://ISV.EXAMPLE.COM:443/trusthub/status" });
form("unescaped-space-in-path", G, "Twilio signed %20; the handler sees a raw space in the path", {
  url: "https://isv.example.com/trust%20hub/status",
  form: BUNDLE_FORM,
}, { url: "https://isv.example.com/trust hub/status" });
form("unescaped-space-in-query", G, "Twilio signed %20; the handler sees a raw space in the query", {
  url: "https://isv.example.com/trusthub/status?tenant=acme%20corp",
  form: BUNDLE_FORM,
}, { url: "https://isv.example.com/trusthub/status?tenant=acme corp" });
form("space-signed-as-is", G, "a raw space signed as it is", {
  url: "https://isv.example.com/trusthub/status?tenant=acme corp",
  form: BUNDLE_FORM,
});
form("apostrophe-escaped-in-query", G, "Twilio signed %27; the handler sees an apostrophe", {
  url: "https://isv.example.com/cb?name=O%27Brien",
  form: BUNDLE_FORM,
}, { url: "https://isv.example.com/cb?name=O'Brien" });
form("plus-in-query-signed-as-escaped-space", G, "a back end that signed the query re-encoded: + read as a space, %20", {
  url: "https://isv.example.com/cb?tenant=acme%20corp",
  form: BUNDLE_FORM,
}, { url: "https://isv.example.com/cb?tenant=acme+corp" });
form("dot-segments", G, "the handler sees /./ and /../ that the normalised URL resolves", {
  url: CB,
  form: BUNDLE_FORM,
}, { url: "https://isv.example.com/hooks/../trusthub/./status" });
form("empty-path", G, "no path: the normalised URL has /", {
  url: "https://isv.example.com/",
  form: BUNDLE_FORM,
}, { url: "https://isv.example.com" });
form("international-host", G, "a host outside ASCII, signed in its punycode form", {
  url: "https://xn--bcher-kva.example/cb",
  form: BUNDLE_FORM,
}, { url: "https://bücher.example/cb" });
form("user-info-and-port", G, "credentials in the URL and the default port", {
  url: "https://user:secret@isv.example.com/cb",
  form: BUNDLE_FORM,
}, { url: "https://user:secret@isv.example.com:443/cb" });
form("ipv6-host-with-port", G, "an IPv6 literal with a port", {
  url: "http://[::1]/cb",
  form: BUNDLE_FORM,
}, { url: "http://[::1]:80/cb" });
form("query-string-kept", G, "the query is part of the signed URL, in its order", {
  url: "https://isv.example.com/cb?z=1&a=2&z=0",
  form: BUNDLE_FORM,
});
form("repeated-key-identical-values", G, "a key sent twice with one value: signed once", {
  url: CB,
  form: "BundleSid=" + BU + "&Status=in-review&Status=in-review",
});
form("repeated-key-different-values", G, "a key with two values: each, sorted", {
  url: CB,
  form: "Errors=b&BundleSid=" + BU + "&Errors=a",
});
form("repeated-key-three-values-two-equal", G, "three values of one key, two of them equal", {
  url: CB,
  form: "Field=x&Field=y&Field=x",
});
form("non-ascii-keys", G, "keys outside ASCII sort by UTF-16 code unit", {
  url: CB,
  form: "%C3%A9tat=1&zone=2&%C3%BCber=3&Zeta=4",
});
form("astral-and-bmp-keys", G, "a key beyond the BMP sorts before U+FF46 in UTF-16 (after it by code point)", {
  url: CB,
  form: "%F0%9F%98%80=smile&%EF%BD%86=fullwidth-f",
});
form("non-ascii-values", G, "values outside ASCII", {
  url: CB,
  form: "FailureReason=Adresse+ne+correspond+pas+%C3%A0+l%E2%80%99enregistrement&Status=twilio-rejected",
});
form("empty-value", G, "a parameter with an empty value", {
  url: CB,
  form: "BundleSid=" + BU + "&FailureReason=&Status=draft",
});
form("no-parameters", G, "an empty body: the URL alone is signed", { url: CB, form: "" });
form("encoded-plus-and-space", G, "%2B is a plus, + is a space", {
  url: CB,
  form: "To=%2B15005550006&Name=A+B%20C",
});
form("other-token", G, "the other account's token signs its own callbacks", {
  url: CB,
  form: BUNDLE_FORM,
  token: OTHER_TOKEN,
}, { token: OTHER_TOKEN });

// ---------- genuine JSON requests (bodySHA256) ----------
json("json-body", G, "an Event Streams delivery: the URL carries the body's SHA-256", {
  url: withHash(CB, EVENTS),
  json: EVENTS,
});
json("json-body-with-query", G, "bodySHA256 after the sink's own query", {
  url: withHash(CB + "?sink=a2p", EVENTS),
  json: EVENTS,
});
json("json-body-default-port", G, "bodySHA256 with the default port added on the way", {
  url: withHash(CB, EVENTS),
  json: EVENTS,
}, { url: withHash("https://isv.example.com:443/trusthub/status", EVENTS) });
json("json-body-upper-case-host", G, "bodySHA256 with the host in capitals", {
  url: withHash(CB, EVENTS),
  json: EVENTS,
}, { url: withHash("https://ISV.EXAMPLE.COM/trusthub/status", EVENTS) });
json("json-empty-array", G, "an empty batch", { url: withHash(CB, "[]"), json: "[]" });

// ---------- forgeries: form ----------
form("tampered-value", F, "Status changed in transit", { url: CB, form: BUNDLE_FORM }, {
  form: BUNDLE_FORM.replace("twilio-approved", "twilio-rejected"),
});
form("tampered-key-case", F, "a key's case changed", { url: DOCS_URL, form: DOCS_FORM }, {
  form: DOCS_FORM.replace("Digits", "digits"),
});
form("extra-parameter", F, "a parameter added", { url: CB, form: BUNDLE_FORM }, {
  form: BUNDLE_FORM + "&FailureReason=x",
});
form("missing-parameter", F, "a parameter removed", { url: CB, form: BUNDLE_FORM }, {
  form: BUNDLE_FORM.replace("AccountSid=" + AC + "&", ""),
});
form("shifted-characters", F, "a character moved from one value to the next key", {
  url: DOCS_URL,
  form: DOCS_FORM,
}, { form: DOCS_FORM.replace("From=%2B12349013030", "From=%2B1234901303").replace("To=", "0To=") });
form("repeated-value-dropped", F, "one of two different values removed", {
  url: CB,
  form: "Errors=a&Errors=b",
}, { form: "Errors=a" });
form("repeated-value-changed", F, "one of two values changed to the other", {
  url: CB,
  form: "Errors=a&Errors=b",
}, { form: "Errors=a&Errors=a" });
form("tampered-path", F, "another path", { url: CB, form: BUNDLE_FORM }, {
  url: "https://isv.example.com/trusthub/admin",
});
form("tampered-query", F, "another query value", { url: DOCS_URL, form: DOCS_FORM }, {
  url: "https://mycompany.com/myapp.php?foo=1&bar=3",
});
form("reordered-query", F, "the query's order is signed", { url: DOCS_URL, form: DOCS_FORM }, {
  url: "https://mycompany.com/myapp.php?bar=2&foo=1",
});
form("http-instead-of-https", F, "the scheme changed", { url: CB, form: BUNDLE_FORM }, {
  url: "http://isv.example.com/trusthub/status",
});
form("other-host", F, "another host", { url: CB, form: BUNDLE_FORM }, {
  url: "https://evil.example.com/trusthub/status",
});
form("trailing-slash", F, "a slash added to the path", { url: CB, form: BUNDLE_FORM }, {
  url: CB + "/",
});
form("trailing-space-after-signature", F, "a space after the signature", {
  url: CB,
  form: BUNDLE_FORM,
}, { signature: (s) => s + " " });
form("leading-space-before-signature", F, "a space before the signature", {
  url: CB,
  form: BUNDLE_FORM,
}, { signature: (s) => " " + s });
form("signature-twice", F, "the signature repeated in one header", {
  url: CB,
  form: BUNDLE_FORM,
}, { signature: (s) => s + "," + s });
form("wrong-token", F, "signed with another account's token", {
  url: CB,
  form: BUNDLE_FORM,
  token: OTHER_TOKEN,
});
form("empty-signature", F, "no signature", { url: CB, form: BUNDLE_FORM }, { signature: () => "" });
form("truncated-signature", F, "the signature cut short", { url: CB, form: BUNDLE_FORM }, {
  signature: (s) => s.slice(0, 16),
});
form("signature-last-character-changed", F, "another valid-looking signature", {
  url: DOCS_URL,
  form: DOCS_FORM,
}, { signature: (s) => s.slice(0, 26) + (s[26] === "A" ? "B" : "A") + s.slice(27) });
form("non-canonical-padding-bits", F, "the same bytes with non-zero padding bits", {
  url: DOCS_URL,
  form: DOCS_FORM,
}, {
  signature: (s) => {
    const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    const last = alphabet.indexOf(s[26]);
    return s.slice(0, 26) + alphabet[last ^ 1] + s.slice(27);
  },
});
form("signature-of-the-url-alone", F, "a signature over the URL without the parameters", {
  url: CB,
  form: "",
}, { form: BUNDLE_FORM });
form("percent-case-changed-in-path", F, "escapes are not case-folded: %2f is not %2F", {
  url: "https://isv.example.com/a%2Fb",
  form: BUNDLE_FORM,
}, { url: "https://isv.example.com/a%2fb" });

// ---------- forgeries: JSON ----------
json("json-tampered-body", F, "the body changed, the URL's hash kept", {
  url: withHash(CB, EVENTS),
  json: EVENTS,
}, { json: EVENTS.replace("registered", "registration_failed") });
json("json-tampered-body-and-hash", F, "the body and the URL's hash changed, signature kept", {
  url: withHash(CB, EVENTS),
  json: EVENTS,
}, {
  url: withHash(CB, EVENTS.replace("registered", "registration_failed")),
  json: EVENTS.replace("registered", "registration_failed"),
});
json("json-without-hash", F, "no bodySHA256: the signature covers the URL only", {
  url: CB,
  json: EVENTS,
});
json("json-upper-case-hash", F, "the hash in capitals: not the hex Twilio writes", {
  url: CB + "?bodySHA256=" + sha256(EVENTS).toUpperCase(),
  json: EVENTS,
});
json("json-wrong-token", F, "signed with another token", {
  url: withHash(CB, EVENTS),
  json: EVENTS,
  token: OTHER_TOKEN,
});
json("json-trailing-space-after-signature", F, "a space after the signature", {
  url: withHash(CB, EVENTS),
  json: EVENTS,
}, { signature: (s) => s + " " });
json("json-body-with-trailing-newline", F, "a newline appended to the body", {
  url: withHash(CB, EVENTS),
  json: EVENTS,
}, { json: EVENTS + "\n" });

// ---------- record twilio-node's verdicts, refuse to write a surprising one ----------
const surprises = [];
for (const v of vectors) {
  const accepted = verdict(v);
  v.expected = accepted ? "accept" : "reject";
  const wanted = v.category === G ? "accept" : "reject";
  if (v.expected !== wanted) surprises.push(`${v.id}: twilio-node says ${v.expected}`);
}
if (surprises.length) {
  process.stderr.write("vectors whose twilio-node verdict is not their category's:\n  " + surprises.join("\n  ") + "\n");
  process.exit(1);
}
const pkg = require(path.join(__dirname, "node_modules/twilio/package.json"));
const out = {
  about:
    "X-Twilio-Signature vectors: what Twilio signed (signed_url, and the form's parameters or the JSON body's hash) " +
    "and what the handler receives (url, signature, form or json). `expected` is twilio-node's verdict " +
    "(validateRequest over querystring.parse(form), validateRequestWithBody for json). Written by " +
    "tools/twilio-node/make-vectors.js; checked by tests/signature.rs and `cargo xtask signature-vectors`.",
  twilio_node: pkg.version,
  vectors,
};
process.stdout.write(JSON.stringify(out, null, 2) + "\n");
