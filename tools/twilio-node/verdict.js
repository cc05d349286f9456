// twilio-node's verdict on one vector of tests/fixtures/signature_vectors.json: validateRequest
// over the form's parameters as Node's querystring decodes them (repeated keys become arrays, as
// Express's urlencoded parser gives them), or validateRequestWithBody for a JSON body. A
// validator that throws (an unparsable URL) has not accepted the request.
"use strict";

const path = require("path");
const querystring = require("querystring");
const webhooks = require(path.join(__dirname, "node_modules/twilio/lib/webhooks/webhooks.js"));

function verdict(v) {
  try {
    if (typeof v.json === "string") {
      return webhooks.validateRequestWithBody(v.token, v.signature, v.url, v.json) === true;
    }
    return webhooks.validateRequest(v.token, v.signature, v.url, querystring.parse(v.form)) === true;
  } catch (_) {
    return false;
  }
}

module.exports = { verdict };
