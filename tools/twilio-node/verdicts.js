// Prints twilio-node's verdict on every vector of a vector file, as JSON:
//   node tools/twilio-node/verdicts.js tests/fixtures/signature_vectors.json
//   -> {"twilio_node": "<version>", "verdicts": {"<id>": "accept" | "reject", ...}}
// Used by `cargo xtask signature-vectors`, which compares these with ours.
"use strict";

const fs = require("fs");
const path = require("path");
const { verdict } = require("./verdict.js");

const file = process.argv[2];
if (!file) {
  process.stderr.write("usage: node verdicts.js <vectors.json>\n");
  process.exit(2);
}
const { vectors } = JSON.parse(fs.readFileSync(file, "utf-8"));
const verdicts = {};
for (const v of vectors) {
  verdicts[v.id] = verdict(v) ? "accept" : "reject";
}
const pkg = require(path.join(__dirname, "node_modules/twilio/package.json"));
process.stdout.write(JSON.stringify({ twilio_node: pkg.version, verdicts }) + "\n");
