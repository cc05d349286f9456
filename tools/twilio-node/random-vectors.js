// Prints N seeded random requests with twilio-node's verdict on each, in the format of
// tests/fixtures/signature_vectors.json (`expected` is twilio-node's verdict now):
//   node tools/twilio-node/random-vectors.js [N] [SEED]
// URLs are drawn from spellings that normalise differently (scheme and host case, ports, spaces,
// quotes, dot segments, escapes, international hosts, query strings of every shape); Twilio is
// taken to sign the URL as it is, as `new URL()` writes it, without its port, or with its query
// re-encoded by `querystring`; forms have repeated, empty and non-ASCII keys; a quarter are JSON
// bodies under bodySHA256, some altered on the way; a third use a token that did not sign.
// `cargo xtask signature-vectors` runs our check on them too.
"use strict";

const crypto = require("crypto");
const path = require("path");
const querystring = require("querystring");
const webhooks = require(path.join(__dirname, "node_modules/twilio/lib/webhooks/webhooks.js"));
const { verdict } = require("./verdict.js");

const count = Number(process.argv[2] || 2000);
let seed = Number(process.argv[3] || 20250101);
function rnd(n) {
  seed = (seed * 1103515245 + 12345) & 0x7fffffff;
  return seed % n;
}
function pick(list) {
  return list[rnd(list.length)];
}

const schemes = ["https", "HTTPS", "http", "Http"];
const hosts = [
  "isv.example.com",
  "ISV.example.COM",
  "bücher.example",
  "xn--bcher-kva.example",
  "127.0.0.1",
  "[::1]",
  "user:pw@h.example",
];
const ports = ["", ":443", ":80", ":8443", ":"];
const paths = ["", "/", "/cb", "/a b/c", "/a/../b", "/%7e/x", "/é", "/a%2Fb", "/a'b", '/a"b', "/a`b{c}", "/a|b"];
const queries = [
  "", "?", "?a=1", "?a=1&b=2&a=3", "?x=a b", "?x=a+b", "?n=O'Brien", "?q=é", "?1=z&b=2&0=y", "?a&b=",
  "?a=%zz", "?a=%41%42", "?a=%FF", "?=x&&y=2", "?k=a%20b", "?k=!*()~", '?t=<>"', "?a=1#frag", "#frag",
];
const keys = ["Status", "BundleSid", "é", "Zeta", "zeta", "😀", "ｆ", "a", "A", "a[0]", "", "Ω"];
const values = ["1", "x", "", "a b", "é", "😀", "+1", "twilio-approved"];

function encodeForm(pairs) {
  return pairs.map(([k, v]) => encodeURIComponent(k) + "=" + encodeURIComponent(v)).join("&");
}

// The URL Twilio signed for a request the handler sees at `url`.
function signedSpelling(url) {
  try {
    const normalised = new URL(url).toString();
    switch (rnd(4)) {
      case 1:
        return normalised;
      case 2:
        return normalised.replace(/^([a-z]+:\/\/[^/?#]*?):\d*(?=[/?#]|$)/, "$1");
      case 3: {
        const q = normalised.indexOf("?");
        if (q < 0 || q === normalised.length - 1) return normalised;
        return normalised.slice(0, q) + "?" + querystring.stringify(querystring.parse(normalised.slice(q + 1)));
      }
      default:
        return url;
    }
  } catch (_) {
    return url;
  }
}

const vectors = [];
for (let i = 0; i < count; i++) {
  const url = pick(schemes) + "://" + pick(hosts) + pick(ports) + pick(paths) + pick(queries);
  const signedUrl = signedSpelling(url);
  const token = pick(["token-a", "token-a", "token-b"]);
  if (rnd(4) === 0) {
    let body = JSON.stringify([{ id: "NO" + i, data: { status: pick(values) } }]);
    const hash = crypto.createHash("sha256").update(body).digest("hex");
    const hashed = (u) => {
      const fragment = u.indexOf("#");
      const [base, tail] = fragment < 0 ? [u, ""] : [u.slice(0, fragment), u.slice(fragment)];
      return base + (base.includes("?") ? "&" : "?") + "bodySHA256=" + hash + tail;
    };
    const signature = webhooks.getExpectedTwilioSignature("token-a", hashed(signedUrl), {});
    if (rnd(5) === 0) body = body.replace("NO", "N0");
    const v = { id: "random-json-" + i, token, url: hashed(url), signature, json: body };
    v.expected = verdict(v) ? "accept" : "reject";
    vectors.push(v);
  } else {
    const pairs = [];
    for (let j = rnd(4); j > 0; j--) pairs.push([pick(keys), pick(values)]);
    if (rnd(3) === 0 && pairs.length) pairs.push(pairs[0]);
    const form = encodeForm(pairs);
    const signature = webhooks.getExpectedTwilioSignature("token-a", signedUrl, querystring.parse(form));
    const v = { id: "random-form-" + i, token, url, signature, form };
    v.expected = verdict(v) ? "accept" : "reject";
    vectors.push(v);
  }
}
const pkg = require(path.join(__dirname, "node_modules/twilio/package.json"));
process.stdout.write(JSON.stringify({ twilio_node: pkg.version, vectors }) + "\n");
